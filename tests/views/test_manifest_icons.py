"""The tablet's web manifest offers a maskable icon: launchers that crop icons to a circle or
a squircle show the whole mark on a painted background instead of a clipped or boxed one."""

import pytest
from django.contrib.staticfiles import finders
from PIL import Image


@pytest.mark.django_db
def test_manifest_has_a_maskable_icon_painted_to_the_edges_with_the_mark_in_the_safe_zone(
    client,
):
    manifest = client.get("/tablet/manifest.webmanifest").json()
    maskable = [icon for icon in manifest["icons"] if "maskable" in icon.get("purpose", "")]
    assert len(maskable) == 1
    icon = maskable[0]
    assert icon["type"] == "image/png" and icon["sizes"] == "512x512"
    assert client.get(icon["src"]).status_code == 200

    path = finders.find(icon["src"].removeprefix("/static/"))
    image = Image.open(path).convert("RGBA")
    assert image.size == (512, 512)
    background = image.getpixel((0, 0))
    assert background[3] == 255  # opaque: nothing shows through where the launcher crops
    # Outside the central safe zone (a circle of 40% of the width around the centre), only
    # background: the mark itself is never cut.
    centre, radius = 256, 0.4 * 512
    for x in range(0, 512, 4):
        for y in range(0, 512, 4):
            if (x - centre) ** 2 + (y - centre) ** 2 > radius**2:
                assert image.getpixel((x, y)) == background, (x, y)
