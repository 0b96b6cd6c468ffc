"""The closed loop's choices and their labels (stored values → Chinese msgids)."""
from domain.errors import N_

# 人机料法环测 (5M1E), each with the word it stands for: a sales handler need not know the shorthand.
CAUSES = {"man": N_("人（人员）"), "machine": N_("机（设备）"), "material": N_("料（物料）"), "method": N_("法（方法）"),
          "environment": N_("环（环境）"), "measurement": N_("测（测量）")}
PROPOSAL_KINDS = {"refund": N_("退款"), "exchange": N_("换货"), "return": N_("退货"), "repair": N_("维修"),
                  "compensation": N_("赔偿"), "apology": N_("道歉/解释"), "other": N_("其他")}
OTHER_PARTIES = {"supplier": N_("供应商"), "carrier": N_("承运方"), "customer": N_("顾客自身"), "other": N_("其他")}
ANSWER_METHODS = {"phone": N_("电话"), "visit": N_("上门/到店"), "email": N_("邮件"), "message": N_("短信/微信"),
                  "letter": N_("书面")}
VERDICTS = {"effective": N_("有效"), "ineffective": N_("无效"), "waived": N_("免验证")}
ACTION_KINDS = {"corrective": N_("纠正措施"), "preventive": N_("预防措施")}
FAILED_CONTACTS_TO_CLOSE = 3
