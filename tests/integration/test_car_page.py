"""Car pages: content, JSON-LD, canonical URLs and redirects, and what happens to sold, deleted and draft cars."""
from __future__ import annotations

import re

import pytest

from support import SeedCar, add_car, canonical, car_ids, get_ok, is_full_page, json_ld, service

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def related_ids(text: str, car_id: int) -> list[int]:
    """Ids of the cars in the 'similar cars' section (every card but the page's own article)."""
    if 'class="section related"' not in text:
        return []
    return car_ids(text.split('class="section related"', 1)[1])


def big_price(text: str) -> str:
    return re.search(r'<p class="big-price price">([^<]*)</p>', text).group(1)


async def test_car_page_shows_price_specs_and_equipment(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["corolla"]
    r = await get_ok(client, car.url)
    assert is_full_page(r.text)
    assert big_price(r.text) == "21 900 €"
    assert f'<article class="car-page" data-car-id="{car.id}">' in r.text
    for spec in ("68 000 km", "<dd>2020</dd>", "Automaatti", "Etuveto", "Farmari", "Hybridi", "14.5.2020",
                 "90 kW (122 hv)", "1 798 cm³", "KRO-120", "SB1ZS3JE30E041236"):
        assert spec in r.text, spec
    equipment = re.search(r'<ul class="equipment">(.*?)</ul>', r.text, re.S).group(1)
    assert len(re.findall(r"<li>", equipment)) == len(car.features)
    assert "<li>Vetokoukku</li>" in equipment and "<li>Talvirenkaat vanteilla</li>" in equipment
    assert "Suomi-auto, jolla on täydellinen" in r.text
    assert re.search(r"alk\. [0-9 ]+ €/kk", r.text)  # the financing example, "alk. 184 €/kk"


async def test_car_page_in_english(client, by_key: dict[str, SeedCar]) -> None:
    r = await get_ok(client, by_key["corolla"].url + "?lang=en")
    assert "<li>Tow bar</li>" in r.text and "Automatic" in r.text and "Estate" in r.text
    assert "A Finnish-market car with a full dealer service history." in r.text


async def test_json_ld_describes_the_car_and_its_offer(client, by_key: dict[str, SeedCar]) -> None:
    car = by_key["model3"]
    r = await get_ok(client, car.url)
    data = json_ld(r.text)
    page_url = f"http://testserver{car.url}"
    assert data["@context"] == "https://schema.org" and data["@type"] == "Car"
    assert data["brand"] == {"@type": "Brand", "name": "Tesla"}
    assert data["model"] == "Model 3"
    assert data["offers"]["@type"] == "Offer"
    assert float(data["offers"]["price"]) == car.price_eur
    assert data["offers"]["priceCurrency"] == "EUR"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    assert data["mileageFromOdometer"]["value"] == car.mileage_km
    assert data["vehicleModelDate"] == str(car.model_year)
    assert data["fuelType"] == "Electricity"
    assert data["url"] == page_url == data["offers"]["url"]
    assert canonical(r.text) == page_url


async def test_json_ld_survives_a_hostile_title(client) -> None:
    car_id = await add_car(client, variant='</script><script>alert("x")</script>', price_cents=1_000_000)
    r = await get_ok(client, f"/cars/{car_id}-x", follow_redirects=True)
    assert '<script>alert("x")</script>' not in r.text
    data = json_ld(r.text)
    assert data["name"].endswith('</script><script>alert("x")</script>')


@pytest.mark.parametrize("suffix", ["", "-", "-wrong-slug", "-toyota"])
async def test_missing_or_wrong_slug_redirects_permanently_to_the_canonical_url(client, by_key, suffix) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    r = await client.get(f"/cars/{car.id}{suffix}")
    assert r.status_code == 301
    assert r.headers["location"] == car.url


async def test_redirect_target_answers(client, by_key) -> None:  # noqa: ANN001
    r = await client.get(f"/cars/{by_key['golf'].id}", follow_redirects=True)
    assert r.status_code == 200 and str(r.url).endswith(by_key["golf"].url)


@pytest.mark.parametrize("path", ["/cars/99999-nothing", "/cars/99999", "/cars/0", "/cars/abc",
                                  "/cars/1-UPPER", "/cars/999999999999999999999999", "/cars/1-a/b"])
async def test_unknown_car_is_a_404_page(client, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 404
    assert is_full_page(r.text)
    assert "Sivua ei löytynyt" in r.text
    assert 'href="/cars"' in r.text


async def test_deleted_car_is_gone_410(client, by_key) -> None:  # noqa: ANN001
    car = by_key["golf"]
    async with service(client) as svc:
        await svc.soft_delete(car.id)
    for path in (car.url, f"/cars/{car.id}", f"/cars/{car.id}-other"):
        r = await client.get(path)
        assert r.status_code == 410, path
        assert "Ilmoitus on poistettu" in r.text


async def test_draft_car_is_not_found(client, by_key) -> None:  # noqa: ANN001
    car = by_key["golf"]
    await get_ok(client, car.url)  # cached while public
    async with service(client) as svc:
        await svc.set_status(car.id, "draft")
    r = await client.get(car.url)
    assert r.status_code == 404
    draft_id = await add_car(client, status="draft", variant="Luonnos")
    assert (await client.get(f"/cars/{draft_id}")).status_code == 404


async def test_sold_car_keeps_its_page_with_a_note_and_similar_cars(client, by_key) -> None:  # noqa: ANN001
    car = by_key["corolla"]
    before = await get_ok(client, car.url)
    assert "Tämä auto on myyty" not in before.text
    async with service(client) as svc:
        await svc.set_status(car.id, "sold")
    r = await get_ok(client, car.url)
    assert "Tämä auto on myyty" in r.text
    assert json_ld(r.text)["offers"]["availability"] == "https://schema.org/SoldOut"
    own = r.text.split('class="section related"')[0]  # the similar cars below show their own estimates
    assert "alk. " not in own  # no financing offer for a sold car
    assert 'id="inquiry"' not in r.text
    assert related_ids(r.text, car.id), "a sold car's page points to similar cars"
    assert car.id not in related_ids(r.text, car.id)


async def test_reserved_car_says_so(client, by_key) -> None:  # noqa: ANN001
    r = await get_ok(client, by_key["bmw320"].url)
    assert "Tämä auto on varattu." in r.text
    assert json_ld(r.text)["offers"]["availability"] == "https://schema.org/LimitedAvailability"


async def test_related_cars_are_never_itself_sold_or_deleted(client, cars: list[SeedCar], by_key) -> None:  # noqa: ANN001
    corolla = by_key["corolla"]
    first = related_ids((await get_ok(client, corolla.url)).text, corolla.id)
    assert len(first) >= 2
    sold, deleted = first[0], first[1]
    async with service(client) as svc:
        await svc.set_status(sold, "sold")
        await svc.soft_delete(deleted)
    gone = {sold, deleted}
    for car in cars:
        if car.id in gone:
            continue
        r = await get_ok(client, car.url)
        rel = related_ids(r.text, car.id)
        assert car.id not in rel, car.key
        assert not gone & set(rel), car.key
        assert len(rel) == len(set(rel)) <= 4


async def test_price_drop_is_shown(client, by_key) -> None:  # noqa: ANN001
    car = by_key["octavia"]
    async with service(client) as svc:
        await svc.change_price(car.id, (car.price_eur - 1000) * 100)
    r = await get_ok(client, car.url)
    assert "Hinta laskenut 1 000 €" in r.text
    assert big_price(r.text) == "18 900 €"
