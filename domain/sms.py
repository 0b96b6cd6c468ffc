"""SMS to the customer (SPEC §7): Alibaba Cloud SMS and Tencent Cloud SMS, their settings and
templates. Messages wait in the outbox like e-mails (domain.delivery sends and retries them).

An SMS is a provider's pre-approved template plus parameters: each of our customer messages
(ack, answer, survey) has the template the administrator registered with the provider, filled with
{number} and {link}. Aliyun gets them as TemplateParam {"number": …, "link": …}; Tencent, whose
templates number their variables, as TemplateParamSet [number, link].

The requests are the providers' own, signed as their documentation says:
- Aliyun dysmsapi (RPC style, version 2017-05-25): a GET whose query carries the common parameters
  and Signature = base64(HMAC-SHA1(secret + "&", "GET&%2F&" + percent(canonical sorted query))),
  percent-encoding per RFC 3986 (space %20, * %2A, ~ kept). Success: {"Code": "OK"}.
- Tencent Cloud API 3.0 (sms, version 2021-01-11): a JSON POST signed TC3-HMAC-SHA256 over the
  content-type and host headers, the key derived from "TC3" + SecretKey, the UTC date, "sms" and
  "tc3_request". Success: Response.SendStatusSet[0].Code == "Ok" and no Response.Error.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from domain import audit
from domain.channels import TIMEOUT, Unreachable, describe, unreachable
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.roles import Role
from domain.text import clean
from models.setting import Setting, put

KEY = "sms"
PROVIDERS = ("aliyun", "tencent")
MESSAGES = ("ack", "answer", "survey")
PROVIDER_LABELS = {"aliyun": N_("阿里云短信"), "tencent": N_("腾讯云短信")}
MESSAGE_LABELS = {"ack": N_("受理通知"), "answer": N_("答复通知"), "survey": N_("评价邀请")}
ENDPOINTS = {"aliyun": "https://dysmsapi.aliyuncs.com/", "tencent": "https://sms.tencentcloudapi.com/"}
REGIONS = {"aliyun": "cn-hangzhou", "tencent": "ap-guangzhou"}
ALIYUN_VERSION = "2017-05-25"
TENCENT_VERSION = "2021-01-11"
TENCENT_CONTENT_TYPE = "application/json; charset=utf-8"
MOBILE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


@dataclass(frozen=True)
class SmsConfig:
    provider: str                       # aliyun / tencent
    access_key_id: str                  # Aliyun AccessKeyId; Tencent SecretId
    access_key_secret: str              # Aliyun AccessKeySecret; Tencent SecretKey
    sign_name: str                      # 短信签名
    region: str = ""                    # Tencent: ap-guangzhou …; Aliyun: cn-hangzhou
    app_id: str = ""                    # Tencent SmsSdkAppId
    endpoint: str = ""                  # another address for the API (a private gateway; tests)
    templates: dict = field(default_factory=dict)   # message (ack/answer/survey) → template code

    def template_for(self, message: str) -> str | None:
        return (self.templates or {}).get(message) or None

    def __repr__(self) -> str:           # never the secret, not even in a traceback
        return f"SmsConfig({self.provider!r}, {self.access_key_id!r}, sign_name={self.sign_name!r})"


def sms_config(session) -> SmsConfig | None:
    """The SMS settings, or None when SMS is off."""
    row = session.get(Setting, KEY)
    v = row.value if row is not None and isinstance(row.value, dict) else None
    if not v or v.get("provider") not in PROVIDERS or not v.get("access_key_id"):
        return None
    return SmsConfig(v["provider"], v.get("access_key_id") or "", v.get("access_key_secret") or "",
                     v.get("sign_name") or "", v.get("region") or "", v.get("app_id") or "", v.get("endpoint") or "",
                     dict(v.get("templates") or {}))


class SmsError(Exception):
    """The provider answered and refused the message: its code and message, and a hint (a msgid)
    for the administrator when the code is a common one."""

    def __init__(self, code: str, message: str = "", status: int | None = None):
        self.code, self.message, self.status = str(code), str(message), status
        super().__init__(f"{self.code}: {self.message}"[:500] if self.message else self.code)

    @property
    def hint(self) -> str | None:
        for codes, hint in HINTS:
            if any(self.code == c or self.code.startswith(c + ".") for c in codes):
                return hint
        return None


HINTS = (
    (("SignatureDoesNotMatch", "IncompleteSignature", "AuthFailure.SignatureFailure"),
     N_("签名校验失败：请检查 AccessKey Secret（腾讯云为 SecretKey）是否填对。")),
    (("InvalidAccessKeyId.NotFound", "InvalidAccessKeyId", "AuthFailure.SecretIdNotFound", "AuthFailure.InvalidSecretId"),
     N_("AccessKey ID（腾讯云为 SecretId）不存在或已停用。")),
    (("isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGN_ILLEGAL", "FailedOperation.SignatureIncorrectOrUnapproved"),
     N_("短信签名不存在或未审核通过：请填写服务商控制台里已通过的签名。")),
    (("isv.SMS_TEMPLATE_ILLEGAL", "FailedOperation.TemplateIncorrectOrUnapproved",
      "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "isv.TEMPLATE_MISSING_PARAMETERS"),
     N_("模板不存在、未审核通过或变量不符：模板须有两个变量（编号和链接）。")),
    (("isv.BUSINESS_LIMIT_CONTROL", "LimitExceeded"), N_("触发了服务商的发送频率限制，稍后会自动重试。")),
    (("isv.MOBILE_NUMBER_ILLEGAL", "InvalidParameterValue.IncorrectPhoneNumber"), N_("手机号码格式不对。")),
    (("isv.AMOUNT_NOT_ENOUGH", "FailedOperation.InsufficientBalanceInSmsPackage"), N_("短信余额不足，请到服务商处充值。")),
)


def national(phone: str) -> str | None:
    """A mainland mobile number as 11 digits (+86 / 86 and separators dropped), None if not one."""
    digits = re.sub(r"[\s\-()（）]", "", phone or "")
    match = MOBILE_RE.match(digits)
    return match.group(1) if match else None


# --- Aliyun dysmsapi -------------------------------------------------------------------------------

def percent_encode(value) -> str:
    """Aliyun's percent-encoding: RFC 3986, only A–Z a–z 0–9 - _ . ~ left as they are."""
    return urllib.parse.quote(str(value), safe="-_.~")


def aliyun_signature(params: dict, secret: str, method: str = "GET") -> str:
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict
    body: bytes | None = None


def aliyun_request(config: SmsConfig, phone: str, template: str, params: dict, *, now: datetime | None = None,
                   nonce: str | None = None) -> Request:
    now = now or datetime.now(timezone.utc)
    query = {
        "AccessKeyId": config.access_key_id, "Action": "SendSms", "Format": "JSON", "PhoneNumbers": phone,
        "RegionId": config.region or REGIONS["aliyun"], "SignName": config.sign_name,
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce or uuid.uuid4().hex, "SignatureVersion": "1.0",
        "TemplateCode": template, "Timestamp": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "TemplateParam": json.dumps({"number": params["number"], "link": params["link"]}, ensure_ascii=False,
                                    separators=(",", ":")),
        "Version": ALIYUN_VERSION,
    }
    query["Signature"] = aliyun_signature(query, config.access_key_secret)
    endpoint = config.endpoint or ENDPOINTS["aliyun"]
    url = endpoint + ("&" if "?" in endpoint else "?") + "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in query.items())
    return Request("GET", url, {"Accept": "application/json"})


def _aliyun_answer(data) -> dict:
    if not isinstance(data, dict):
        raise SmsError("BadAnswer", "服务商的回答不是 JSON")
    if data.get("Code") != "OK":
        raise SmsError(data.get("Code") or "Unknown", data.get("Message") or "")
    return data


# --- Tencent Cloud API 3.0 -------------------------------------------------------------------------

def tc3_authorization(secret_id: str, secret_key: str, service: str, host: str, payload: bytes, timestamp: int,
                      content_type: str = TENCENT_CONTENT_TYPE) -> str:
    """The Authorization header of a POST to `host` (TC3-HMAC-SHA256, signed headers content-type;host)."""
    canonical = "\n".join(["POST", "/", "", f"content-type:{content_type}\nhost:{host}\n", "content-type;host",
                           hashlib.sha256(payload).hexdigest()])
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    signing = mac(mac(mac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


def tencent_request(config: SmsConfig, phone: str, template: str, params: dict, *,
                    timestamp: int | None = None) -> Request:
    timestamp = int(time.time()) if timestamp is None else timestamp
    endpoint = config.endpoint or ENDPOINTS["tencent"]
    host = urllib.parse.urlsplit(endpoint).netloc
    body = json.dumps({"PhoneNumberSet": [f"+86{phone}"], "SmsSdkAppId": config.app_id, "SignName": config.sign_name,
                       "TemplateId": template, "TemplateParamSet": [str(params["number"]), str(params["link"])]},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Authorization": tc3_authorization(config.access_key_id, config.access_key_secret, "sms", host, body,
                                           timestamp),
        "Content-Type": TENCENT_CONTENT_TYPE, "Host": host, "X-TC-Action": "SendSms",
        "X-TC-Version": TENCENT_VERSION, "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": config.region or REGIONS["tencent"],
    }
    return Request("POST", endpoint, headers, body)


def _tencent_answer(data) -> dict:
    response = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(response, dict):
        raise SmsError("BadAnswer", "服务商的回答不是 JSON")
    error = response.get("Error")
    if error:
        raise SmsError(error.get("Code") or "Unknown", error.get("Message") or "")
    statuses = response.get("SendStatusSet") or [{}]
    status = statuses[0] if isinstance(statuses[0], dict) else {}
    if status.get("Code") != "Ok":
        raise SmsError(status.get("Code") or "Unknown", status.get("Message") or "")
    return data


# --- sending ---------------------------------------------------------------------------------------

def build_request(config: SmsConfig, phone: str, message: str, params: dict) -> Request:
    number = national(phone)
    if number is None:
        raise SmsError("InvalidPhone", "不是大陆手机号码")
    template = config.template_for(message)
    if template is None:
        raise SmsError("NoTemplate", f"没有为 {message} 设置短信模板")
    if config.provider == "aliyun":
        return aliyun_request(config, number, template, params)
    return tencent_request(config, number, template, params)


def send(config: SmsConfig, phone: str, message: str, params: dict) -> dict:
    """Send one SMS now; returns the provider's answer. Raises SmsError when the provider refuses,
    channels.Unreachable when its host cannot be reached."""
    req = build_request(config, phone, message, params)
    answer = _aliyun_answer if config.provider == "aliyun" else _tencent_answer
    http = urllib.request.Request(req.url, data=req.body, method=req.method, headers=req.headers)
    try:
        with urllib.request.urlopen(http, timeout=TIMEOUT) as resp:
            raw = resp.read(65536)
    except urllib.error.HTTPError as err:   # Aliyun answers a refusal with 4xx and its JSON
        try:
            raw = err.read(65536) if err.fp is not None else b""
        finally:
            err.close()
        try:
            return answer(json.loads(raw))
        except SmsError as refused:
            refused.status = err.code
            raise
        except ValueError:
            raise SmsError(f"HTTP {err.code}", str(err.reason), err.code) from None
    except Exception as err:
        if unreachable(err):
            raise Unreachable(describe(err)) from err
        raise
    try:
        data = json.loads(raw)
    except ValueError:
        raise SmsError("BadAnswer", "服务商的回答不是 JSON") from None
    return answer(data)


def receipt(answer: dict) -> str:
    """The provider's reference of a sent message: Aliyun's BizId, Tencent's SerialNo."""
    if "BizId" in answer:
        return str(answer.get("BizId"))
    statuses = (answer.get("Response") or {}).get("SendStatusSet") or [{}]
    return str(statuses[0].get("SerialNo") or (answer.get("Response") or {}).get("RequestId") or "")


def send_test(session, actor, phone: str, *, link: str, now: datetime) -> dict:
    """The administrator's test: the first message that has a template, to `phone`, sent at once."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    config = sms_config(session)
    if config is None:
        raise InvalidInput(N_("请先选择服务商并保存短信设置。"), field="test_phone")
    message = next((m for m in MESSAGES if config.template_for(m)), None)
    if message is None:
        raise InvalidInput(N_("请先填写至少一个短信模板。"), field="test_phone")
    if national(clean(phone or "")) is None:
        raise InvalidInput(N_("请填写一个大陆手机号码，例如 13800138000。"), field="test_phone")
    number = f"TS-{now:%Y%m}-0000"
    return send(config, clean(phone), message, {"number": number, "link": link, "message": message})


# --- settings --------------------------------------------------------------------------------------

KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")       # printable ASCII, no spaces
REGION_RE = re.compile(r"^[a-z]{2}-[a-z0-9-]{2,40}$")
TEMPLATE_RE = {"aliyun": re.compile(r"^SMS_\d{3,20}$"), "tencent": re.compile(r"^\d{1,20}$")}
TEMPLATE_MESSAGES = {"aliyun": N_("阿里云的模板 CODE 形如 SMS_123456789。"),
                     "tencent": N_("腾讯云的模板 ID 是一串数字，例如 1234567。")}
SIGN_MAX = 20


def set_sms_config(session, actor, *, provider, access_key_id, access_key_secret, sign_name, region, app_id,
                   endpoint, templates: dict, ip=None, now: datetime) -> SmsConfig | None:
    """Save the SMS settings. An empty provider turns SMS off; an empty secret keeps the stored one
    (for the same provider and key). The secret is never logged or audited."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    provider = clean(provider or "")
    if not provider:
        session.query(Setting).filter(Setting.key == KEY).delete()
        audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{KEY}", ip=ip, now=now,
                     after="off")
        return None
    problems = []

    def problem(message, name, **params):
        problems.append(InvalidInput(message, field=name, **params))

    if provider not in PROVIDERS:
        problem(N_("请选择短信服务商。"), "provider")
    key_id = clean(access_key_id or "")
    if not KEY_RE.match(key_id):
        problem(N_("请填写 AccessKey ID（腾讯云为 SecretId），不含空格。"), "access_key_id")
    old = sms_config(session)
    secret = (access_key_secret or "").strip()
    if not secret:
        same = old is not None and old.provider == provider and old.access_key_id == key_id
        if same:
            secret = old.access_key_secret
        else:
            problem(N_("请填写 AccessKey Secret（腾讯云为 SecretKey）；更换服务商或 AccessKey ID 时须重新填写。"),
                    "access_key_secret")
    elif not KEY_RE.match(secret):
        problem(N_("密钥只含字母、数字和符号，不含空格，最多 128 位。"), "access_key_secret")
    sign = clean(sign_name or "")
    if not sign:
        problem(N_("请填写短信签名：服务商控制台里审核通过的签名，例如公司简称。"), "sign_name")
    elif len(sign) > SIGN_MAX or re.search(r"[【】\[\]]", sign):
        problem(N_("短信签名最多 %(max)d 个字，不带【】。"), "sign_name", max=SIGN_MAX)
    region = clean(region or "")
    if region and not REGION_RE.match(region):
        problem(N_("地域格式不对，例如 cn-hangzhou（阿里云）或 ap-guangzhou（腾讯云）；可以留空。"), "region")
    app = clean(app_id or "")
    if provider == "tencent" and not re.match(r"^\d{6,20}$", app):
        problem(N_("请填写短信应用的 SdkAppId：腾讯云短信控制台“应用管理”里 1400 开头的一串数字。"), "app_id")
    url = clean(endpoint or "")
    if url:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 300 or " " in url:
            problem(N_("接口地址须是完整的 http(s):// 地址；一般留空，使用服务商的默认地址。"), "endpoint")
        elif not parsed.path:
            url += "/"
    codes = {}
    for message in MESSAGES:
        code = clean((templates or {}).get(message) or "")
        if code and provider in TEMPLATE_RE and not TEMPLATE_RE[provider].match(code):
            problem(TEMPLATE_MESSAGES[provider], f"template_{message}")
        elif code:
            codes[message] = code
    if problems:
        raise InvalidInputs(problems)
    value = {"provider": provider, "access_key_id": key_id, "access_key_secret": secret, "sign_name": sign,
             "region": region or REGIONS[provider], "app_id": app if provider == "tencent" else "",
             "endpoint": url, "templates": codes}
    put(session, KEY, value, by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{KEY}", ip=ip, now=now,
                 after=f"{provider}: {sign}")   # never the secret
    return sms_config(session)
