"""SMS to the customer (SPEC §7): Alibaba Cloud SMS and Tencent Cloud SMS, their settings and
templates. Messages wait in the outbox like e-mails (domain.delivery sends and retries them).

An SMS is a provider's pre-approved template plus parameters: each of our customer messages
(ack, answer, survey) has the template the administrator registered with the provider, filled with
{number} and {link}."""
from __future__ import annotations

from dataclasses import dataclass, field

from models.setting import Setting

KEY = "sms"
PROVIDERS = ("aliyun", "tencent")
MESSAGES = ("ack", "answer", "survey")


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


def sms_config(session) -> SmsConfig | None:
    """The SMS settings, or None when SMS is off."""
    row = session.get(Setting, KEY)
    v = row.value if row is not None and isinstance(row.value, dict) else None
    if not v or v.get("provider") not in PROVIDERS or not v.get("access_key_id"):
        return None
    return SmsConfig(v["provider"], v.get("access_key_id") or "", v.get("access_key_secret") or "",
                     v.get("sign_name") or "", v.get("region") or "", v.get("app_id") or "", v.get("endpoint") or "",
                     dict(v.get("templates") or {}))
