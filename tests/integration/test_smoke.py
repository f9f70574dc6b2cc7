import pytest

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_cars_page_and_fragment(client):
    page = await client.get("/cars")
    assert page.status_code == 200
    assert "<html" in page.text and page.text.count("data-car-id=") == 4
    frag = await client.get("/cars", headers={"HX-Request": "true"})
    assert frag.status_code == 200
    assert "<html" not in frag.text and 'id="results"' in frag.text
    assert "HX-Request" in frag.headers["vary"]
