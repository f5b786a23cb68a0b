"""Standard Webhooks verification against the published test vector and its edge cases."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.errors import WebhookRejected
from daemon.webhooks.signatures import sign, signed_headers, verify

# The published Standard Webhooks test vector (docs/reliability.md §1).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature: str = EXPECTED, ts: int = TS, msg_id: str = MSG_ID) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_published_vector_signs_as_published() -> None:
    assert sign(SECRET, MSG_ID, TS, BODY) == EXPECTED


def test_published_vector_verifies_at_its_own_time() -> None:
    assert verify([SECRET], headers(), BODY, now=TS) == MSG_ID


def test_one_changed_character_fails() -> None:
    with pytest.raises(WebhookRejected) as info:
        verify([SECRET], headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), BODY, now=TS)
    assert info.value.reason == "bad_signature" and info.value.status_code == 401


def test_rotation_list_passes_when_any_entry_matches() -> None:
    bogus = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    header = f"{bogus} v2,{bogus[3:]} {EXPECTED} {bogus}"
    assert verify([SECRET], headers(header), BODY, now=TS) == MSG_ID


def test_second_configured_secret_is_accepted_during_rollover() -> None:
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    assert verify([other, SECRET], headers(), BODY, now=TS) == MSG_ID


@pytest.mark.parametrize("offset, ok", [(-300, True), (300, True), (-301, False), (301, False)])
def test_tolerance_is_checked_in_both_directions(offset: int, ok: bool) -> None:
    now = TS + 1000
    ts = now + offset
    body = b"{}"
    h = signed_headers(SECRET, MSG_ID, ts, body)
    if ok:
        assert verify([SECRET], h, body, now=now) == MSG_ID
    else:
        with pytest.raises(WebhookRejected) as info:
            verify([SECRET], h, body, now=now)
        assert info.value.reason == "stale_timestamp"


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"webhook-id": MSG_ID, "webhook-timestamp": str(TS)},
        headers(ts=-1),
        {**headers(), "webhook-timestamp": "12.5"},
        {**headers(), "webhook-timestamp": "abc"},
        headers("v1"),
        headers("v1,"),
        headers("v1,a,b"),
        headers("v1,not-base64!!"),
        headers("v2," + EXPECTED[3:]),
        headers(""),
        headers("   "),
        {**headers(), "webhook-id": "a.b"},
    ],
)
def test_malformed_headers_are_401_never_another_exception(bad: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected) as info:
        verify([SECRET], bad, BODY, now=TS)
    assert info.value.status_code == 401


def test_tampered_body_fails() -> None:
    with pytest.raises(WebhookRejected):
        verify([SECRET], headers(), BODY + b" ", now=TS)


@given(st.dictionaries(st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]), st.text()),
       st.binary(max_size=64))
def test_any_header_values_give_webhook_rejected_or_accept(h: dict[str, str], body: bytes) -> None:
    try:
        verify([SECRET], h, body, now=TS)
    except WebhookRejected as exc:
        assert exc.status_code == 401
    else:  # pragma: no cover - would be a forged acceptance
        raise AssertionError("random headers were accepted")


@given(st.integers(min_value=0, max_value=len(BODY) - 1), st.integers(min_value=1, max_value=255))
def test_any_single_byte_flip_in_body_is_rejected(index: int, delta: int) -> None:
    tampered = bytearray(BODY)
    tampered[index] = (tampered[index] + delta) % 256
    with pytest.raises(WebhookRejected):
        verify([SECRET], headers(), bytes(tampered), now=TS)
