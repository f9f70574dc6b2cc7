"""Every Redis key comes from kroi.cache.keys: shapes, stability and separation."""
import pytest

from kroi.cache import keys
from kroi.cache.client import CacheStats
from kroi.inventory.search import CarQuery

pytestmark = pytest.mark.unit


def test_fragment_key_shape() -> None:
    assert keys.fragment(keys.INVENTORY, 42, "results", "fi", "abc") == "kroi:v1:inventory:42:results:fi:abc"
    assert keys.fragment(keys.car_scope(7), 3, "head") == "kroi:v1:car:7:3:head"


def test_generation_lock_and_view_keys() -> None:
    assert keys.generation(keys.INVENTORY) == "kroi:v1:gen:inventory"
    assert keys.generation(keys.car_scope(5)) == "kroi:v1:gen:car:5"
    assert keys.lock("kroi:v1:inventory:1:x") == "kroi:v1:inventory:1:x:lock"
    assert keys.pending_views() == "kroi:v1:views:pending"
    assert keys.flushing_views("ab12") == "kroi:v1:views:flushing:ab12"


def test_every_key_is_under_the_versioned_prefix() -> None:
    made = [keys.generation("s"), keys.fragment("s", 1, "w"), keys.lock(keys.fragment("s", 1, "w")),
            keys.pending_views(), keys.flushing_views("t")]
    assert all(k.startswith("kroi:v1:") for k in made)


def test_a_new_generation_makes_a_different_key() -> None:
    assert keys.fragment(keys.INVENTORY, 1, "home", "fi") != keys.fragment(keys.INVENTORY, 2, "home", "fi")


def test_scopes_of_different_cars_do_not_collide() -> None:
    assert keys.car_scope(1) != keys.car_scope(11)
    assert keys.fragment(keys.car_scope(1), 11, "head") != keys.fragment(keys.car_scope(11), 1, "head")


def test_digest_is_stable_short_and_order_independent() -> None:
    a = keys.digest({"b": 1, "a": [1, 2]})
    b = keys.digest({"a": [1, 2], "b": 1})
    assert a == b
    assert len(a) == 24 and all(c in "0123456789abcdef" for c in a)
    assert keys.digest({"a": [2, 1], "b": 1}) != a  # list order is meaningful


def test_digest_of_equal_queries_is_equal_and_of_different_queries_differs() -> None:
    q1 = CarQuery(fuel=("diesel", "hybrid"), price_max=30000)
    q2 = CarQuery(price_max=30000, fuel=("diesel", "hybrid"))
    assert keys.digest(q1.filters()) == keys.digest(q2.filters())
    assert keys.digest(q1.filters()) != keys.digest(CarQuery(fuel=("diesel",), price_max=30000).filters())
    assert keys.digest(q1.cache_identity()) != keys.digest(CarQuery(**{**q1.__dict__, "page": 2}).cache_identity())
    assert keys.digest(CarQuery(q="1").filters()) != keys.digest(CarQuery(price_min=1).filters())


def test_digest_handles_values_json_cannot() -> None:
    from datetime import datetime, timezone

    assert keys.digest({"at": datetime(2025, 1, 1, tzinfo=timezone.utc)})


def test_ttl_tiers_are_positive_and_ordered() -> None:
    assert 0 < keys.TTL_COUNTER <= keys.TTL_LISTING <= keys.TTL_FEATURED <= keys.TTL_RELATED <= keys.TTL_DETAIL
    assert keys.TTL_FACETS > 0 and keys.TTL_SETTINGS >= keys.TTL_DETAIL


def test_cache_stats_hit_rate() -> None:
    assert CacheStats().as_dict()["hit_rate"] is None
    assert CacheStats(hits=3, misses=1).as_dict() == {"hits": 3, "misses": 1, "errors": 0, "skipped": 0,
                                                      "hit_rate": 0.75}
