"""Story header images: an editor uploads a photo with its alt text; visitors
get clean copies (no location, no camera) in the sizes a phone needs, from
our own origin, and the social card in og:image."""

import io
import re
import struct
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from campaign.extensions import db
from campaign.images.models import Image as StoredImage
from campaign.images.models import ImageRendition
from campaign.permissions import Role
from campaign.story.models import Story
from tests.helpers import token_in
from tests.test_organiser import add_organiser, log_in

STORY = "russia-recognizes-taliban"
PAGE = f"/organiser/stories/{STORY}/image"
ALT = "Women hold placards outside the embassy."
DARI_ALT = "زنان در بیرون سفارت پلاکارت در دست دارند."
SECRET = "Pixel-Secret-Model"  # the camera model hidden in the test photo
GPS = 0x8825


def photo(size=(2000, 1000), orientation: int | None = None, fmt="JPEG") -> bytes:
    """A photo as a phone writes it: EXIF with GPS position, camera make and
    model (and an orientation), XMP and a comment."""
    picture = Image.new("RGB", size, (200, 40, 40))
    # A blue left half, so a test can tell which way the image was turned.
    picture.paste((40, 40, 200), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = SECRET  # Model
    exif[GPS] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{SECRET}</x:xmpmeta>'.encode()
    picture.save(out, fmt, exif=exif, xmp=xmp, comment=SECRET.encode())
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels: a
    decompression bomb's shape, without the memory to make a real one."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@pytest.fixture
def editor(app):
    """A client signed in as an editor."""
    client = app.test_client()
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(client, "editor@example.org").status_code == 302
    return client


def upload(client, data: bytes | None, alt=ALT, filename="photo.jpg", **fields):
    """Send the image form as an editor's browser would."""
    # A valid token (staff never see the form: the dashboard's sign-out has one).
    page = client.get(PAGE)
    if page.status_code != 200:
        page = client.get("/organiser/")
    form = {"csrf_token": token_in(page.get_data(as_text=True))}
    form.update(alt_text=alt, **fields)
    if data is not None:
        form["image"] = (io.BytesIO(data), filename)
    return client.post(PAGE, data=form, content_type="multipart/form-data")


def stored(app) -> tuple[int, int, int | None]:
    """How many images and renditions are stored, and the story's image id."""
    with app.app_context():
        images = db.session.scalar(sa.select(sa.func.count(StoredImage.id)))
        files = db.session.scalar(sa.select(sa.func.count(ImageRendition.id)))
        image_id = db.session.scalar(sa.select(Story.image_id).filter_by(slug=STORY))
    return images, files, image_id


def image_urls(html: str) -> list[str]:
    """Every image URL in a page's srcset and src attributes."""
    urls = []
    for attribute in re.findall(r'(?:srcset|src)="(/images/[^"]+)"', html):
        urls += [part.strip().split(" ")[0] for part in attribute.split(",")]
    return sorted(set(urls))


def meta(html: str, name: str) -> str | None:
    """The content of a <meta property|name=...> tag."""
    found = re.search(rf'<meta (?:property|name)="{name}" content="([^"]*)"', html)
    return found.group(1) if found else None


def opened(response) -> Image.Image:
    """A served file, decoded."""
    return Image.open(io.BytesIO(response.get_data()))


def test_every_served_size_is_clean_webp_and_jpeg(app, editor):
    original = Image.open(io.BytesIO(photo()))
    assert original.getexif().get_ifd(GPS) and SECRET in str(original.getexif())
    response = upload(editor, photo())
    assert response.status_code == 302
    html = app.test_client().get("/").get_data(as_text=True)
    urls = image_urls(html)
    assert {u.rsplit(".", 1)[1] for u in urls} == {"webp", "jpg"}
    sizes = set()
    for url in urls:
        served = app.test_client().get(url)
        assert served.status_code == 200
        picture = opened(served)
        ext = url.rsplit(".", 1)[1]
        assert served.mimetype == {"webp": "image/webp", "jpg": "image/jpeg"}[ext]
        assert picture.format == {"webp": "WEBP", "jpg": "JPEG"}[ext]
        # No EXIF (GPS, camera), XMP, ICC profile or comment, anywhere in the file.
        assert not picture.getexif() and not picture.getexif().get_ifd(GPS)
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(picture.info)
        assert SECRET.encode() not in served.get_data()
        assert b"Exif" not in served.get_data()
        width = int(re.search(r"-(\d+)\.", url).group(1))
        assert picture.size == (width, width // 2)
        sizes.add(width)
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        etag = served.headers["ETag"]
        again = app.test_client().get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
    assert sizes == {480, 960, 1600}  # never wider than the 2000-pixel photo


def test_picture_markup_offers_webp_and_a_jpeg_fallback(app, editor):
    upload(editor, photo())
    html = app.test_client().get("/").get_data(as_text=True)
    picture = re.search(r"<picture.*?</picture>", html, re.S).group(0)
    source = re.search(r"<source [^>]+>", picture).group(0)
    assert 'type="image/webp"' in source and "sizes=" in source
    assert "480w" in source and "1600w" in source
    img = re.search(r"<img [^>]+>", picture).group(0)
    for attribute in ("srcset=", "sizes=", 'loading="eager"', 'decoding="async"'):
        assert attribute in img
    assert 'width="1600" height="800"' in img
    assert f'alt="{ALT}"' in img and 'lang="en"' in img
    assert "https://" not in picture and "//" not in picture.replace("://", "")


def test_exif_orientation_is_applied(app, editor):
    # Orientation 6: the camera was turned; viewers rotate 90° clockwise.
    assert upload(editor, photo((1000, 600), orientation=6)).status_code == 302
    url = image_urls(app.test_client().get("/").get_data(as_text=True))[0]
    picture = opened(app.test_client().get(url)).convert("RGB")
    assert picture.size == (480, 800)  # upright: taller than wide
    # The blue left half of the sensor is now the top.
    assert picture.getpixel((240, 10))[2] > 150
    assert picture.getpixel((240, 790))[0] > 150


def test_transparent_png_is_laid_over_white(app, editor):
    out = io.BytesIO()
    Image.new("RGBA", (600, 300), (0, 0, 0, 0)).save(out, "PNG")
    assert upload(editor, out.getvalue(), filename="logo.png").status_code == 302
    url = [u for u in image_urls(app.test_client().get("/").text) if u.endswith("jpg")]
    assert opened(app.test_client().get(url[0])).getpixel((5, 5)) >= (250, 250, 250)


def test_alt_text_is_required(app, editor):
    response = upload(editor, photo(), alt="  ")
    assert response.status_code == 400
    assert "Describe what the image shows" in response.get_data(as_text=True)
    assert stored(app) == (0, 0, None)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        pytest.param(
            b"Just some text", "photo.jpg", "Choose a JPEG, PNG or WebP", id="text"
        ),
        pytest.param(
            b"GIF89a" + b"\0" * 64, "a.gif", "Choose a JPEG, PNG or WebP", id="gif"
        ),
        pytest.param(
            photo()[:3000], "photo.jpg", "damaged or incomplete", id="truncated"
        ),
        pytest.param(
            b"\xff\xd8\xff\xe0" + b"\x13" * 500, "x.jpg", "damaged", id="corrupt"
        ),
        pytest.param(
            png_claiming(30000, 30000), "bomb.png", "too many pixels", id="bomb"
        ),
        pytest.param(
            png_claiming(8000, 8000), "big.png", "too many pixels", id="64-mp"
        ),
        pytest.param(b"", "empty.jpg", "Choose an image file", id="empty"),
    ],
)
def test_unusable_files_are_refused_and_nothing_is_stored(
    app, editor, data, filename, message
):
    # The petition PDF's WeasyPrint, once imported, tells Pillow to pad
    # truncated images: a cut-short upload must still be refused after it.
    import weasyprint  # noqa: F401

    response = upload(editor, data, filename=filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored(app) == (0, 0, None)


def test_a_file_over_the_image_limit_is_refused(app_factory):
    app = app_factory(IMAGE_MAX_BYTES=50_000)
    client = app.test_client()
    add_organiser(app, "editor@example.org", Role.EDITOR)
    log_in(client, "editor@example.org")
    # Over IMAGE_MAX_BYTES, within the page's body limit (the form's room).
    big = photo() + b"\0" * 60_000
    assert 50_000 < len(big) < 50_000 + 64 * 1024
    response = upload(client, big)
    assert response.status_code == 400
    assert "larger than" in response.get_data(as_text=True)
    # Over the page's whole body limit: 413, a page that names the limit.
    response = upload(client, b"\xff" * 200_000)
    assert response.status_code == 413
    assert "at most" in response.get_data(as_text=True)
    assert stored(app) == (0, 0, None)


def test_the_default_limit_refuses_a_larger_file_with_413(app, editor):
    form = {"csrf_token": token_in(editor.get(PAGE).get_data(as_text=True))}
    form["alt_text"] = ALT
    form["image"] = FileStorage(io.BytesIO(b"\0" * 11_000_000), "huge.jpg")
    # Encoded in memory: the test client's own spooled file would be left open.
    boundary, body = encode_multipart(form)
    response = editor.post(
        PAGE,
        input_stream=io.BytesIO(body),
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "That file is larger than this page accepts (at most 10 MB)" in text
    assert stored(app) == (0, 0, None)


def test_a_file_is_needed_for_a_first_image(app, editor):
    response = upload(editor, None)
    assert response.status_code == 400
    assert "Choose an image file to upload." in response.get_data(as_text=True)


def test_staff_cannot_upload_or_remove(app):
    client = app.test_client()
    add_organiser(app, "staff@example.org", Role.STAFF)
    log_in(client, "staff@example.org")
    assert client.get(PAGE).status_code == 403
    assert upload(client, photo()).status_code == 403
    token = token_in(client.get("/organiser/").get_data(as_text=True))
    assert client.post(f"{PAGE}/remove", data={"csrf_token": token}).status_code == 403
    assert stored(app) == (0, 0, None)


def test_og_image_is_the_absolute_card(app, editor):
    html = app.test_client().get("/").get_data(as_text=True)
    assert meta(html, "og:image") is None
    assert meta(html, "twitter:card") == "summary"
    upload(editor, photo())
    html = app.test_client().get("/").get_data(as_text=True)
    card = meta(html, "og:image")
    assert re.fullmatch(
        r"http://campaign\.test/images/\d+-[0-9a-f]{16}-card\.jpg", card
    )
    assert meta(html, "og:image:alt") == ALT
    assert (meta(html, "og:image:width"), meta(html, "og:image:height")) == (
        "1200",
        "630",
    )
    assert meta(html, "twitter:card") == "summary_large_image"
    own_page = app.test_client().get(f"/stories/{STORY}").get_data(as_text=True)
    assert meta(own_page, "og:image") == card
    served = app.test_client().get(card.removeprefix("http://campaign.test"))
    picture = opened(served)
    assert (picture.format, picture.size) == ("JPEG", (1200, 630))
    assert not picture.getexif() and SECRET.encode() not in served.get_data()


def test_readers_get_the_alt_text_in_their_language(app, editor):
    upload(editor, photo(), alt_fa_AF=DARI_ALT)
    dari = app.test_client().get("/fa/").get_data(as_text=True)
    assert f'alt="{DARI_ALT}" lang="fa-AF" dir="rtl"' in dari
    assert meta(dari, "og:image:alt") == DARI_ALT
    # No Pashto alt text: the English one, marked as English.
    pashto = app.test_client().get("/ps/").get_data(as_text=True)
    assert f'alt="{ALT}" lang="en" dir="ltr"' in pashto
    # One URL per file in every language.
    assert (
        image_urls(dari)
        == image_urls(pashto)
        == image_urls(app.test_client().get("/").get_data(as_text=True))
    )


def test_cached_pages_show_a_new_image_at_once_and_old_files_go(app_factory):
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30)
    client = app.test_client()
    add_organiser(app, "editor@example.org", Role.EDITOR)
    log_in(client, "editor@example.org")
    visitor = app.test_client()
    story_page = f"/stories/{STORY}"
    assert "<picture" not in visitor.get("/").get_data(as_text=True)
    assert "<picture" not in visitor.get(story_page).get_data(as_text=True)
    upload(client, photo())
    first = image_urls(visitor.get("/").get_data(as_text=True))
    assert first
    assert image_urls(visitor.get(story_page).get_data(as_text=True)) == first
    upload(client, photo((1200, 600)), alt="A second photo.")
    html = visitor.get("/").get_data(as_text=True)
    assert 'alt="A second photo."' in html
    second = image_urls(html)
    assert image_urls(visitor.get(story_page).get_data(as_text=True)) == second
    assert set(first).isdisjoint(second)
    assert all(visitor.get(url).status_code == 404 for url in first)
    assert stored(app)[0] == 1  # the replaced image is deleted
    # Alt text alone changes too, with the same files.
    response = upload(client, None, alt="The same photo, better described.")
    assert response.status_code == 302
    html = visitor.get("/").get_data(as_text=True)
    assert "better described" in html and image_urls(html) == second
    token = token_in(client.get(PAGE).get_data(as_text=True))
    assert client.post(f"{PAGE}/remove", data={"csrf_token": token}).status_code == 302
    assert "<picture" not in visitor.get("/").get_data(as_text=True)
    assert "<picture" not in visitor.get(story_page).get_data(as_text=True)
    assert all(visitor.get(url).status_code == 404 for url in second)
    assert stored(app) == (0, 0, None)


def test_unknown_files_and_old_versions_are_404(app, editor):
    upload(editor, photo())
    url = image_urls(app.test_client().get("/").get_data(as_text=True))[0]
    client = app.test_client()
    assert (
        client.get(re.sub(r"-[0-9a-f]{16}-", "-0123456789abcdef-", url)).status_code
        == 404
    )
    assert client.get(re.sub(r"-(\d+)\.", "-123.", url)).status_code == 404
    assert client.get("/images/999999-0123456789abcdef-480.webp").status_code == 404


def test_the_upload_page_shows_the_image_and_the_rules(app, editor):
    page = editor.get(PAGE)
    assert page.status_code == 200
    assert "at most 10 MB" in page.get_data(as_text=True)
    upload(editor, photo(), alt_ps="ښځې د سفارت بهر پلاکارډونه نیسي.")
    page = editor.get(PAGE).get_data(as_text=True)
    assert "<picture" in page and ALT in page and "ښځې" in page
    assert editor.get("/organiser/stories/no-such-story/image").status_code == 404


def test_alt_text_for_an_image_removed_meanwhile_is_no_error(app, editor):
    upload(editor, photo())
    token = token_in(editor.get(PAGE).get_data(as_text=True))
    other = app.test_client()
    log_in(other, "editor@example.org")
    other_token = token_in(other.get(PAGE).get_data(as_text=True))
    assert (
        other.post(f"{PAGE}/remove", data={"csrf_token": other_token}).status_code
        == 302
    )
    form = {"csrf_token": token, "alt_text": "A better description."}
    response = editor.post(PAGE, data=form, follow_redirects=True)
    assert response.status_code == 400  # a first image needs a file
    assert "Choose an image file to upload." in response.get_data(as_text=True)
    assert stored(app) == (0, 0, None)
