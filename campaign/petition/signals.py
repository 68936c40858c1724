"""What the petition tells other features, so none of them is imported here.

Receivers run synchronously, inside the sender's unit of work (the sender
commits), so what they add is stored with the change that caused it.
"""

from blinker import Namespace

signals = Namespace()

# A signer who ticked the list box proved their address: sent with the
# Signature and ``wording``, the box's text in the signer's language.
signer_joined_list = signals.signal("signer-joined-list")
