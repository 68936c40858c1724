"""The shipped nginx locations (deploy/nginx/) in a real nginx in front of the app:
public pages come from the cache, organisers' never do, static files from disk."""

import http.client
import io
import re
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.serving import make_server

from bench import nginx_server
from campaign.extensions import db
from campaign.images.services import set_story_image
from campaign.petition.services import get_petition, update_petition
from campaign.story.services import get_story
from tests.helpers import SLUG, free_port, wait_for

pytestmark = pytest.mark.skipif(not nginx_server.NGINX, reason="nginx is not installed")


class Counted:
    """The app, counting the requests that reach it (past nginx)."""

    def __init__(self, app):
        """Wrap ``app``."""
        self.app, self.paths = app, []

    def __call__(self, environ, start_response):
        """Count, then answer as the app does."""
        self.paths.append(environ["PATH_INFO"])
        return self.app(environ, start_response)


@pytest.fixture
def proxied(app_factory, tmp_path):
    """The app served by a thread, behind nginx with the shipped locations."""
    app = app_factory(
        PROXY_FIX_X_FOR=1, PUBLIC_MAX_AGE=1, PUBLIC_STALE_WHILE_REVALIDATE=1
    )
    counted = Counted(app)
    server = make_server("127.0.0.1", 0, counted, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = free_port()
    root = Path(app.static_folder).parent
    nginx = nginx_server.start(tmp_path / "nginx", server.server_port, port, root)
    yield app, counted, port
    nginx_server.stop(nginx)
    server.shutdown()


def get(port: int, path: str, headers: dict | None = None, method="GET", body=None):
    """A GET (or ``method``) through nginx: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.headers, body


def test_public_pages_come_from_the_cache(proxied):
    app, counted, port = proxied
    first = get(port, "/")
    second = get(port, "/")
    assert first[0] == second[0] == 200
    assert first[1]["X-Cache-Status"] == "MISS"
    assert second[1]["X-Cache-Status"] == "HIT"
    assert "Set-Cookie" not in second[1]
    assert b"Russia" in second[2]
    assert counted.paths.count("/") == 1


def test_organiser_pages_and_sessions_go_past_the_cache(proxied):
    app, counted, port = proxied
    for _ in range(2):
        status, headers, _ = get(port, "/organiser/login")
        assert status == 200 and headers["X-Cache-Status"] != "HIT"
    assert counted.paths.count("/organiser/login") == 2
    get(port, "/")
    _, headers, _ = get(port, "/", {"Cookie": "session=someone"})
    assert headers["X-Cache-Status"] == "BYPASS"


def test_static_files_are_served_from_disk(proxied):
    app, counted, port = proxied
    status, headers, body = get(port, "/static/css/site.css?v=1")
    assert status == 200 and b"{" in body
    assert "immutable" in headers["Cache-Control"]
    assert not any(path.startswith("/static/") for path in counted.paths)


def test_an_edit_shows_within_max_age(proxied):
    app, counted, port = proxied
    assert get(port, f"/petitions/{SLUG}")[1]["X-Cache-Status"] == "MISS"
    with app.app_context():
        petition = get_petition(SLUG)
        fields = {"title": "A title changed by an organiser"}
        update_petition(petition, None, **fields)
        db.session.remove()
    started = time.monotonic()
    wait_for(
        lambda: (
            b"A title changed by an organiser" in get(port, f"/petitions/{SLUG}")[2]
        ),
        timeout=6,
    )
    # max-age 1 s, then one stale answer while nginx fetches the new page.
    assert time.monotonic() - started < 4


def test_each_language_has_its_own_cached_copy(proxied):
    app, counted, port = proxied
    pages = {"/": b'lang="en"', "/fa/": b'lang="fa-AF"', "/ps/": b'lang="ps"'}
    for path, opening in [*pages.items(), *pages.items()]:
        status, _, body = get(port, path)
        assert status == 200 and opening in body, path
    assert get(port, "/fa/")[1]["X-Cache-Status"] == "HIT"
    assert [counted.paths.count(path) for path in pages] == [1, 1, 1]


def test_a_chosen_language_passes_the_cached_front_page(proxied):
    app, counted, port = proxied
    get(port, "/")
    assert get(port, "/")[1]["X-Cache-Status"] == "HIT"
    for _ in range(2):  # never the English copy, and the redirect is not kept
        status, headers, _ = get(port, "/", {"Cookie": "lang=fa_AF"})
        assert status == 302 and headers["Location"].endswith("/fa/")
        assert headers["X-Cache-Status"] != "HIT"
    status, headers, _ = get(port, "/")  # everyone else still gets the copy
    assert status == 200 and headers["X-Cache-Status"] == "HIT"


def test_story_images_are_cached_and_their_upload_takes_a_photo(proxied):
    app, counted, port = proxied
    with app.app_context():
        photo = io.BytesIO()
        Image.new("RGB", (800, 400), (90, 60, 120)).save(photo, "JPEG")
        story = get_story("russia-recognizes-taliban")
        set_story_image(story, photo.getvalue(), "A photo", {}, None)
        url = re.search(r'src="(/images/[^"]+)"', get(port, "/")[2].decode())[1]
        db.session.remove()
    first, second = get(port, url), get(port, url)
    assert first[0] == second[0] == 200 and second[1]["X-Cache-Status"] == "HIT"
    assert "immutable" in second[1]["Cache-Control"]
    assert counted.paths.count(url) == 1
    # A 3 MB photo passes nginx to the upload page (which asks to sign in);
    # other pages keep nginx's 1 MB limit.
    body = b"x" * 3_000_000
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    page = "/organiser/stories/russia-recognizes-taliban/image"
    assert get(port, page, form, "POST", body)[0] != 413
    assert page in counted.paths
    assert get(port, "/fa" + page, form, "POST", body)[0] != 413
    assert get(port, "/organiser/login", form, "POST", body)[0] == 413
