"""SMS to the customer (SPEC §7) against a real local HTTP server that plays Alibaba Cloud SMS or
Tencent Cloud SMS: it checks each request's signature with its own implementation of the provider's
documented algorithm (written here, not ours), checks the parameters and answers as the provider
does. Also the documents' worked examples as known-answer tests, the retries and the settings."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from domain import delivery, sms
from domain.errors import InvalidInputs, NotAllowed
from domain.messages import Wording
from domain.portal import online, steps
from models.audit import AuditEvent
from models.sla import Outbox
from tests.builders import NOW, TZ, make_complaint, user
from tests.conftest import free_port

SECRET = "test-secret"
WORDING = Wording("https://kesu.example.com", secret=SECRET)
KEY_ID = {"aliyun": "LTAI5tTestKeyId000001", "tencent": "AKIDtestSecretId000000000000000001"}
KEY_SECRET = {"aliyun": "aliyunTestSecret0123456789abcd", "tencent": "tencentTestSecretKey0123456789ab"}
TEMPLATES = {"aliyun": {"ack": "SMS_100000001", "answer": "SMS_100000002", "survey": "SMS_100000003"},
             "tencent": {"ack": "1100001", "answer": "1100002", "survey": "1100003"}}
SIGN = "鲜味食品"
APP_ID = "1400123456"


# --- the provider's side, written from its documentation ----------------------------------------

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def aliyun_percent(text: str) -> str:
    """Aliyun's POP encoding byte by byte: unreserved characters kept, every other byte %XY."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def aliyun_expected(query: dict, secret: str) -> str:
    canonical = "&".join(f"{aliyun_percent(k)}={aliyun_percent(query[k])}" for k in sorted(query) if k != "Signature")
    string = "GET&" + aliyun_percent("/") + "&" + aliyun_percent(canonical)
    return base64.b64encode(hmac.new((secret + "&").encode(), string.encode(), hashlib.sha1).digest()).decode()


def tc3_expected(secret_key: str, headers, body: bytes) -> str:
    ts = int(headers["X-TC-Timestamp"])
    day = time.strftime("%Y-%m-%d", time.gmtime(ts))
    canonical = (f"POST\n/\n\ncontent-type:{headers['Content-Type']}\nhost:{headers['Host']}\n\n"
                 f"content-type;host\n{hashlib.sha256(body).hexdigest()}")
    string = f"TC3-HMAC-SHA256\n{ts}\n{day}/sms/tc3_request\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (day, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string.encode(), hashlib.sha256).hexdigest()


AUTH_RE = re.compile(r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<day>\d{4}-\d\d-\d\d)/sms/tc3_request, "
                     r"SignedHeaders=content-type;host, Signature=(?P<sig>[0-9a-f]{64})$")


class FakeProvider:
    """What the server saw: `requests` (each with `ok` — signature valid — and the parameters)."""

    def __init__(self):
        self.kind, self.key_id, self.secret = "aliyun", "", ""
        self.requests: list[dict] = []
        self.answer_code = None          # make a correctly signed request fail with this code
        self.nonces: set = set()

    def aliyun(self, handler):
        split = urllib.parse.urlsplit(handler.path)
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True, strict_parsing=True)
        query = dict(pairs)
        assert len(query) == len(pairs), "a parameter twice"
        ok = (split.path == "/" and query.get("AccessKeyId") == self.key_id
              and hmac.compare_digest(query.get("Signature", ""), aliyun_expected(query, self.secret)))
        fresh = query.get("SignatureNonce") not in self.nonces
        self.nonces.add(query.get("SignatureNonce"))
        self.requests.append({"ok": ok and fresh, "params": query})
        if not ok:
            return 400, {"RequestId": uuid.uuid4().hex, "HostId": "dysmsapi.aliyuncs.com",
                         "Code": "SignatureDoesNotMatch",
                         "Message": "Specified signature is not matched with our calculation."}
        if self.answer_code:
            return 200, {"RequestId": uuid.uuid4().hex, "Code": self.answer_code, "Message": "触发号码天级流控"}
        return 200, {"Message": "OK", "RequestId": uuid.uuid4().hex, "Code": "OK", "BizId": "900619746936498440^0"}

    def tencent(self, handler, body: bytes):
        auth = AUTH_RE.match(handler.headers.get("Authorization", ""))
        ok = bool(auth) and auth["id"] == self.key_id and hmac.compare_digest(
            auth["sig"], tc3_expected(self.secret, handler.headers, body))
        if ok:
            ok = auth["day"] == time.strftime("%Y-%m-%d", time.gmtime(int(handler.headers["X-TC-Timestamp"])))
        self.requests.append({"ok": ok, "params": json.loads(body), "headers": handler.headers})  # any case
        if not ok:
            return 200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure",
                                                "Message": "The provided credentials could not be validated."},
                                      "RequestId": str(uuid.uuid4())}}
        phone = json.loads(body)["PhoneNumberSet"][0]
        code = self.answer_code or "Ok"
        return 200, {"Response": {"SendStatusSet": [{"SerialNo": "5000:1045710669157053657849499619",
                                                      "PhoneNumber": phone, "Fee": 1, "SessionContext": "",
                                                      "Code": code, "Message": "send success", "IsoCode": "CN"}],
                                  "RequestId": str(uuid.uuid4())}}


@pytest.fixture
def provider():
    state = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status, data):
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self):
            self._answer(*state.aliyun(self))

        def do_POST(self):
            self._answer(*state.tencent(self, self.rfile.read(int(self.headers.get("Content-Length") or 0))))

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield state
    server.shutdown()
    server.server_close()


def sms_on(session, kind, endpoint, **changes):
    values = dict(provider=kind, access_key_id=KEY_ID[kind], access_key_secret=KEY_SECRET[kind], sign_name=SIGN,
                  region="", app_id=APP_ID if kind == "tencent" else "", endpoint=endpoint,
                  templates=TEMPLATES[kind])
    values.update(changes)
    return sms.set_sms_config(session, user(session, "admin"), now=NOW, **values)


def serve(provider, kind, secret=None):
    provider.kind, provider.key_id, provider.secret = kind, KEY_ID[kind], secret or KEY_SECRET[kind]


def received(provider, kind):
    """(phone, sign name, template, [number, link]) of a request, as the provider reads it."""
    last = provider.requests[-1]["params"]
    if kind == "aliyun":
        assert (last["Action"], last["Version"], last["Format"]) == ("SendSms", "2017-05-25", "JSON")
        assert (last["SignatureMethod"], last["SignatureVersion"], last["RegionId"]) == ("HMAC-SHA1", "1.0", "cn-hangzhou")
        stamp = datetime.strptime(last["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert abs(stamp - datetime.now(timezone.utc)) < timedelta(minutes=15)   # the real time, UTC
        param = json.loads(last["TemplateParam"])
        assert set(param) == {"number", "link"}
        return last["PhoneNumbers"], last["SignName"], last["TemplateCode"], [param["number"], param["link"]]
    headers = provider.requests[-1]["headers"]
    assert (headers["X-TC-Action"], headers["X-TC-Version"], headers["X-TC-Region"]) == ("SendSms", "2021-01-11",
                                                                                         "ap-guangzhou")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert abs(int(headers["X-TC-Timestamp"]) - time.time()) < 900
    assert last["SmsSdkAppId"] == APP_ID
    (phone,) = last["PhoneNumberSet"]
    return phone, last["SignName"], last["TemplateId"], last["TemplateParamSet"]


def online_form(**values) -> online.OnlineComplaint:
    data = dict(customer_name="李先生", customer_phone="13900001234", customer_email=None, content="买的牛奶过期了",
                demand="refund", privacy_consent=True, contact_consent=True)
    data.update(values)
    return online.OnlineComplaint(**data)


def sms_rows(session, complaint, kind):
    return session.scalars(select(Outbox).where(Outbox.complaint_id == complaint.id, Outbox.kind == kind,
                                                Outbox.channel == "sms")).all()


# --- the documents' worked examples ---------------------------------------------------------------

def test_aliyun_signature_matches_the_documented_examples():
    # 短信服务 SendSms example (help.aliyun.com/document_detail/56189): AccessKeySecret testSecret
    send_sms = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
                "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
                "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
                "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
                "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"}
    assert sms.aliyun_signature(send_sms, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    # RPC signature mechanism, DescribeRegions: AccessKeySecret testsecret
    regions = {"Timestamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
               "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
               "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Version": "2014-05-26",
               "SignatureVersion": "1.0"}
    assert sms.aliyun_signature(regions, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert aliyun_expected(regions, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="   # the test's own, too


def test_aliyun_percent_encoding_rules():
    assert sms.percent_encode("a b*c~d") == "a%20b%2Ac~d"
    assert sms.percent_encode("2017-07-12T02:42:19Z") == "2017-07-12T02%3A42%3A19Z"
    assert sms.percent_encode("阿") == "%E9%98%BF" and sms.percent_encode("+/=&") == "%2B%2F%3D%26"


def test_tc3_signature_matches_the_documented_example():
    # Tencent Cloud API 3.0 签名方法 v3, the CVM DescribeInstances example (timestamp 1551113065).
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    assert hashlib.sha256(payload).hexdigest() == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    auth = sms.tc3_authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", "cvm",
                                 "cvm.tencentcloudapi.com", payload, 1551113065)
    assert auth == ("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
                    "SignedHeaders=content-type;host, "
                    "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c")


def test_the_request_shapes():
    config = sms.SmsConfig("aliyun", "id", "secret", SIGN, templates=TEMPLATES["aliyun"])
    req = sms.aliyun_request(config, "13900001234", "SMS_100000001", {"number": "TS-202611-0001", "link": "https://a/b c"},
                             now=datetime(2026, 11, 23, 3, 0, 5, tzinfo=timezone.utc), nonce="n1")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(req.url).query))
    assert req.method == "GET" and req.url.startswith("https://dysmsapi.aliyuncs.com/?")
    assert query["Timestamp"] == "2026-11-23T03:00:05Z" and "%20" in req.url and "+" not in req.url
    assert json.loads(query["TemplateParam"]) == {"number": "TS-202611-0001", "link": "https://a/b c"}
    assert query["Signature"] == aliyun_expected(query, "secret")
    config = sms.SmsConfig("tencent", "AKID1", "key", SIGN, app_id=APP_ID, templates=TEMPLATES["tencent"])
    req = sms.tencent_request(config, "13900001234", "1100001", {"number": "N", "link": "L"}, timestamp=1551113065)
    assert req.method == "POST" and req.url == "https://sms.tencentcloudapi.com/"
    assert req.headers["Host"] == "sms.tencentcloudapi.com" and req.headers["X-TC-Timestamp"] == "1551113065"
    assert json.loads(req.body) == {"PhoneNumberSet": ["+8613900001234"], "SmsSdkAppId": APP_ID, "SignName": SIGN,
                                    "TemplateId": "1100001", "TemplateParamSet": ["N", "L"]}
    assert req.headers["Authorization"].endswith(tc3_expected("key", req.headers, req.body))
    assert sms.national("+86 139-0000-1234") == "13900001234" and sms.national("021-64381234") is None


# --- through the outbox ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sms.PROVIDERS)
def test_the_acknowledgement_goes_by_sms_signed_as_the_provider_checks_it(session, company, provider, kind):
    serve(provider, kind)
    sms_on(session, kind, provider.url)
    c = online.register_online(session, online_form(customer_phone="+8613900001234"), now=NOW, tz=TZ,
                               token="s" * 32).complaint
    (row,) = sms_rows(session, c, "customer:ack")
    session.commit()
    assert delivery.deliver(session, [row.id], NOW, WORDING) == {"sent": 1, "retry": 0, "failed": 0}
    assert row.status == "sent" and row.last_error is None
    assert [r["ok"] for r in provider.requests] == [True]
    phone, sign, template, (number, link) = received(provider, kind)
    assert phone == ("13900001234" if kind == "aliyun" else "+8613900001234")
    assert (sign, template, number) == (SIGN, TEMPLATES[kind]["ack"], c.number)
    assert link.startswith("https://kesu.example.com/track/" + c.number + "/")
    assert delivery.deliver(session, [row.id], NOW + timedelta(hours=1), WORDING)["sent"] == 0
    assert len(provider.requests) == 1


@pytest.mark.parametrize("kind", sms.PROVIDERS)
def test_the_survey_link_goes_by_sms_at_follow_up_and_closes_the_complaint(session, company, provider, kind):
    serve(provider, kind)
    sms_on(session, kind, provider.url)
    c = make_complaint(session, "follow_up", customer_phone="13912345678", contact_consent=True)
    (row,) = sms_rows(session, c, "customer:survey")
    session.commit()
    assert delivery.deliver(session, [row.id], NOW, WORDING)["sent"] == 1
    assert [r["ok"] for r in provider.requests] == [True]
    phone, _sign, template, (number, link) = received(provider, kind)
    assert phone.endswith("13912345678") and template == TEMPLATES[kind]["survey"] and number == c.number
    assert link.startswith("https://kesu.example.com/survey/")
    steps.rate(session, link.rsplit("/", 1)[1], score=5, comment="", confirm=True, now=NOW + timedelta(hours=1))
    assert c.stage == "closed" and c.close_reason == "customer"


@pytest.mark.parametrize("kind", sms.PROVIDERS)
def test_a_refused_signature_is_retried_with_backoff_then_sent_once(session, company, provider, kind):
    serve(provider, kind, secret="the-provider-knows-another-secret")
    sms_on(session, kind, provider.url)
    c = online.register_online(session, online_form(), now=NOW, tz=TZ, token="r" * 32).complaint
    (row,) = sms_rows(session, c, "customer:ack")
    session.commit()
    assert delivery.deliver(session, [row.id], NOW, WORDING) == {"sent": 0, "retry": 1, "failed": 0}
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at == NOW + timedelta(minutes=1)
    code = "SignatureDoesNotMatch" if kind == "aliyun" else "AuthFailure.SignatureFailure"
    assert code in row.last_error and KEY_SECRET[kind] not in row.last_error
    assert delivery.deliver(session, [row.id], NOW + timedelta(seconds=30), WORDING)["retry"] == 0   # not due yet
    provider.secret = KEY_SECRET[kind]           # the provider's key now matches
    assert delivery.deliver(session, [row.id], NOW + timedelta(minutes=1), WORDING)["sent"] == 1
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    assert delivery.deliver(session, [row.id], NOW + timedelta(hours=1), WORDING)["sent"] == 0
    assert [r["ok"] for r in provider.requests] == [False, True]


@pytest.mark.parametrize("kind", sms.PROVIDERS)
def test_a_provider_refusal_carries_its_code_and_a_hint(session, company, provider, kind):
    serve(provider, kind)
    provider.answer_code = "isv.BUSINESS_LIMIT_CONTROL" if kind == "aliyun" else "LimitExceeded.PhoneNumberDailyLimit"
    sms_on(session, kind, provider.url)
    with pytest.raises(sms.SmsError) as err:
        sms.send_test(session, user(session, "admin"), "13900001234", link="https://kesu.example.com/track", now=NOW)
    assert err.value.code == provider.answer_code and err.value.hint == "触发了服务商的发送频率限制，稍后会自动重试。"
    phone, _sign, template, (number, link) = received(provider, kind)
    assert template == TEMPLATES[kind]["ack"] and number == "TS-202611-0000" and link == "https://kesu.example.com/track"
    provider.answer_code = None
    answer = sms.send_test(session, user(session, "admin"), "13900001234", link="https://x/track", now=NOW)
    assert answer.get("Code") == "OK" or answer["Response"]["SendStatusSet"][0]["Code"] == "Ok"
    with pytest.raises(NotAllowed):
        sms.send_test(session, user(session, "quality"), "13900001234", link="https://x/track", now=NOW)


def test_an_unreachable_provider_rests_sms_for_the_drain(session, company):
    sms_on(session, "aliyun", f"http://127.0.0.1:{free_port()}/")    # nothing listens there
    complaints = [online.register_online(session, online_form(), now=NOW, tz=TZ, token=t * 32).complaint
                  for t in "ab"]
    rows = [r for c in complaints for r in sms_rows(session, c, "customer:ack")]
    session.commit()
    result = delivery.drain(session, lambda: NOW, wording=WORDING)
    assert result["down"] == ["sms"] and result["retry"] == 2 and result["sent"] == 0
    for row in rows:
        assert row.status == "pending" and row.attempts == 1 and "Connection refused" in row.last_error


def test_sms_only_with_consent_a_mobile_and_a_template(session, company, provider):
    sms_on(session, "aliyun", provider.url, templates={"answer": "SMS_100000002"})   # no ack template
    c = online.register_online(session, online_form(), now=NOW, tz=TZ, token="t" * 32).complaint
    assert sms_rows(session, c, "customer:ack") == []
    sms_on(session, "aliyun", provider.url)
    c = online.register_online(session, online_form(contact_consent=False), now=NOW, tz=TZ, token="u" * 32).complaint
    assert session.scalars(select(Outbox).where(Outbox.complaint_id == c.id)).all() == []
    c = online.register_online(session, online_form(customer_phone="021-64381234", customer_email="a@example.com"),
                               now=NOW, tz=TZ, token="v" * 32).complaint
    assert sms_rows(session, c, "customer:ack") == []                  # a landline gets no SMS


# --- settings -------------------------------------------------------------------------------------

def test_bad_settings_are_refused_with_a_message_per_field(session, company):
    admin = user(session, "admin")
    with pytest.raises(InvalidInputs) as err:
        sms.set_sms_config(session, admin, provider="tencent", access_key_id="has space", access_key_secret="",
                           sign_name="【鲜味】", region="Guangzhou", app_id="abc", endpoint="ftp://gw",
                           templates={"ack": "SMS_1", "answer": "123", "survey": ""}, now=NOW)
    fields = {p.field: p.message for p in err.value.problems}
    assert set(fields) == {"access_key_id", "access_key_secret", "sign_name", "region", "app_id", "endpoint",
                           "template_ack"}
    assert fields["app_id"].startswith("请填写短信应用的 SdkAppId")
    with pytest.raises(InvalidInputs) as err:
        sms.set_sms_config(session, admin, provider="yunpian", access_key_id="id", access_key_secret="s",
                           sign_name="x", region="", app_id="", endpoint="", templates={}, now=NOW)
    assert {p.field for p in err.value.problems} == {"provider"}
    with pytest.raises(NotAllowed):
        sms.set_sms_config(session, user(session, "quality"), provider="", access_key_id="", access_key_secret="",
                           sign_name="", region="", app_id="", endpoint="", templates={}, now=NOW)
    assert sms.sms_config(session) is None


def test_a_blank_secret_keeps_the_stored_one_and_no_secret_is_audited(session, company):
    admin = user(session, "admin")
    first = sms_on(session, "tencent", "")
    assert first.access_key_secret == KEY_SECRET["tencent"] and first.region == "ap-guangzhou"
    kept = sms_on(session, "tencent", "https://gw.example.com", access_key_secret="", sign_name="新签名")
    assert kept.access_key_secret == KEY_SECRET["tencent"] and kept.sign_name == "新签名"
    assert kept.endpoint == "https://gw.example.com/" and KEY_SECRET["tencent"] not in repr(kept)
    with pytest.raises(InvalidInputs) as err:            # another key: its secret is needed
        sms_on(session, "tencent", "", access_key_id="AKIDanother", access_key_secret="")
    assert [p.field for p in err.value.problems] == ["access_key_secret"]
    assert sms.set_sms_config(session, admin, provider="", access_key_id="", access_key_secret="", sign_name="",
                              region="", app_id="", endpoint="", templates={}, now=NOW) is None
    assert sms.sms_config(session) is None
    session.flush()
    trail = session.scalars(select(AuditEvent).where(AuditEvent.target == "setting:sms")).all()
    assert len(trail) == 3
    assert all(KEY_SECRET["tencent"] not in json.dumps(
        {c.key: str(getattr(e, c.key)) for c in AuditEvent.__table__.columns}, ensure_ascii=False) for e in trail)
