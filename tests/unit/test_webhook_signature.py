"""Standard Webhooks verification without a database: signing, secrets and arbitrary headers."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sxe.errors import ConfigError
from sxe.webhooks.signature import SignatureRejected, parse_secrets, sign, verify

SECRET = "whsec_" + base64.b64encode(b"unit-test-secret-key-0123456789!").decode()
NOW = 1_780_000_000
BODY = b'{"source":"s"}'


def headers(signature: str, *, webhook_id: str = "msg_1", timestamp: int = NOW) -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_signed_delivery_verifies() -> None:
    delivery = verify(BODY, headers(sign(BODY, "msg_1", NOW, SECRET)), parse_secrets(SECRET), now=NOW)

    assert delivery.webhook_id == "msg_1"
    assert int(delivery.sent_at.timestamp()) == NOW


def test_reference_vector_verifies() -> None:
    # A fixed id, timestamp, body and secret with a known v1 signature, computed outside this code.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signed = headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek")
    signed["webhook-timestamp"] = "1614265330"

    delivery = verify(body, signed, parse_secrets(secret), now=1614265330)

    assert delivery.webhook_id == "msg_p5jXN8AQM9LWM0D4loKWxJek"


def test_unpadded_secret_is_accepted() -> None:
    unpadded = SECRET.rstrip("=")
    assert unpadded != SECRET

    delivery = verify(BODY, headers(sign(BODY, "msg_1", NOW, SECRET)), parse_secrets(unpadded), now=NOW)

    assert delivery.webhook_id == "msg_1"


@pytest.mark.parametrize("value", ["whsec_", "plainsecret", f"{SECRET},whsec_***"])
def test_malformed_secret_is_config_error(value: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_secrets(value)

    assert "SXE_WEBHOOK_SECRETS" in str(error.value)
    assert "***" not in str(error.value)
    assert SECRET not in str(error.value)


def test_blank_secrets_give_no_signers() -> None:
    assert parse_secrets(" , ") == []


def test_unset_secrets_give_no_signers() -> None:
    assert parse_secrets(None) == []


@pytest.mark.parametrize(("offset", "word"), [(-301, "old"), (301, "future")])
def test_timestamp_outside_window_is_rejected(offset: int, word: str) -> None:
    signed = headers(sign(BODY, "msg_1", NOW + offset, SECRET), timestamp=NOW + offset)

    with pytest.raises(SignatureRejected) as error:
        verify(BODY, signed, parse_secrets(SECRET), now=NOW)

    assert word in str(error.value)


@settings(max_examples=300, deadline=None)
@given(
    webhook_id=st.one_of(st.none(), st.text(max_size=300)),
    timestamp=st.one_of(st.none(), st.text(max_size=20), st.integers(min_value=-(10**13), max_value=10**13).map(str)),
    signature=st.one_of(st.none(), st.text(max_size=400), st.lists(st.text(max_size=60), max_size=12).map(" ".join)),
    body=st.binary(max_size=200),
)
def test_arbitrary_headers_only_raise_rejection(
    webhook_id: str | None, timestamp: str | None, signature: str | None, body: bytes
) -> None:
    values = {"webhook-id": webhook_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    present = {name: value for name, value in values.items() if value is not None}

    with pytest.raises(SignatureRejected):
        verify(body, present, parse_secrets(SECRET), now=NOW)
