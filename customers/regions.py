"""Provinces of mainland China with their GB/T 2260 codes (the first two digits)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Province(models.TextChoices):
    """Province-level divisions; the value is the GB/T 2260 code."""

    BEIJING = "11", _("北京市")
    TIANJIN = "12", _("天津市")
    HEBEI = "13", _("河北省")
    SHANXI = "14", _("山西省")
    INNER_MONGOLIA = "15", _("内蒙古自治区")
    LIAONING = "21", _("辽宁省")
    JILIN = "22", _("吉林省")
    HEILONGJIANG = "23", _("黑龙江省")
    SHANGHAI = "31", _("上海市")
    JIANGSU = "32", _("江苏省")
    ZHEJIANG = "33", _("浙江省")
    ANHUI = "34", _("安徽省")
    FUJIAN = "35", _("福建省")
    JIANGXI = "36", _("江西省")
    SHANDONG = "37", _("山东省")
    HENAN = "41", _("河南省")
    HUBEI = "42", _("湖北省")
    HUNAN = "43", _("湖南省")
    GUANGDONG = "44", _("广东省")
    GUANGXI = "45", _("广西壮族自治区")
    HAINAN = "46", _("海南省")
    CHONGQING = "50", _("重庆市")
    SICHUAN = "51", _("四川省")
    GUIZHOU = "52", _("贵州省")
    YUNNAN = "53", _("云南省")
    TIBET = "54", _("西藏自治区")
    SHAANXI = "61", _("陕西省")
    GANSU = "62", _("甘肃省")
    QINGHAI = "63", _("青海省")
    NINGXIA = "64", _("宁夏回族自治区")
    XINJIANG = "65", _("新疆维吾尔自治区")
