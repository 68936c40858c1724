"""The signer-email outbox: which emails are due, and who is sending them.

Signing only marks an email as due on the signature row (``notice``), in the
same commit that stores it. The Celery task ``send_due_notices`` sends due
emails through the shared outbox machinery (campaign/outbox.py). It runs on a
beat schedule and is also "kicked" after a signature, at most once per
NOTICE_KICK_INTERVAL per process, so a quiet site emails at once and a busy
one in batches.
"""

from campaign.outbox import Outbox
from campaign.petition.models import Signature

OUTBOX = Outbox.of(Signature)
claim_due = OUTBOX.claim_due
mark_sent = OUTBOX.mark_sent
release = OUTBOX.release
