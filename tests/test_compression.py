"""Pages, CSS and JS go out compressed; static files under fingerprinted URLs."""

import gzip
import re

import brotli
import pytest

from campaign.static_files import IMMUTABLE
from tests.helpers import SLUG
from tests.test_organiser import add_organiser, log_in

STATIC = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"')


@pytest.mark.parametrize(
    ("encoding", "decode"), [("gzip", gzip.decompress), ("br", brotli.decompress)]
)
def test_the_front_page_is_under_10_kb_on_the_wire(client, encoding, decode):
    plain = client.get("/")
    response = client.get("/", headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.vary
    assert len(response.data) < 10 * 1024
    assert decode(response.data) == plain.data
    # Compression pays: the page is several times larger as it is.
    assert len(plain.data) > 3 * len(response.data)


def test_a_compressed_page_answers_conditional_requests(client):
    gzipped = {"Accept-Encoding": "gzip"}
    etag = client.get(f"/petitions/{SLUG}", headers=gzipped).headers["ETag"]
    again = client.get(f"/petitions/{SLUG}", headers=gzipped | {"If-None-Match": etag})
    assert again.status_code == 304


def test_a_client_that_accepts_no_encoding_gets_the_page_as_it_is(client):
    response = client.get("/")
    assert "Content-Encoding" not in response.headers
    assert b"<!doctype html>" in response.data


def test_static_files_have_fingerprinted_urls_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    found = dict(STATIC.findall(page))
    assert {"/static/css/site.css", "/static/js/campaign.js"} <= found.keys()
    for path, version in found.items():
        url = f"{path}?v={version}"
        with client.get(url, headers={"Accept-Encoding": "br"}) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == IMMUTABLE
            if path.endswith((".css", ".js")):
                assert response.headers["Content-Encoding"] == "br"


def test_a_static_url_without_the_current_version_is_not_kept_for_long(client):
    for url in ("/static/css/site.css", "/static/css/site.css?v=000000000000"):
        with client.get(url) as response:
            assert response.headers.get("Cache-Control") != IMMUTABLE


def test_the_fingerprint_changes_with_the_file(tmp_path):
    from campaign.static_files import fingerprints

    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("a{}")
    before = fingerprints(str(tmp_path))["css/site.css"]
    (tmp_path / "css" / "site.css").write_text("b{}")
    assert fingerprints(str(tmp_path))["css/site.css"] != before


def test_pages_holding_a_csrf_token_are_not_compressed(app, client):
    # Compressing a secret beside reflected input lets BREACH guess it.
    add_organiser(app)
    assert log_in(client).status_code == 302
    page = client.get("/organiser/", headers={"Accept-Encoding": "gzip, br"})
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    assert "Content-Encoding" not in page.headers
