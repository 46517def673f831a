"""Channel type → the module of its platform client (imported when first used, so a deployment
that configures one platform loads only that client)."""

from __future__ import annotations

import importlib

from services.notify.im.base import DINGTALK_APP, FEISHU_APP, WECOM_APP, ClientFactory

MODULES = {
    DINGTALK_APP: "services.notify.im.dingtalk",
    WECOM_APP: "services.notify.im.wecom",
    FEISHU_APP: "services.notify.im.feishu",
}


def factory(channel_type: str) -> ClientFactory:
    """``client(app, redis, timeout)`` of the platform module for ``channel_type``."""
    module = importlib.import_module(MODULES[channel_type])
    made: ClientFactory = module.client
    return made
