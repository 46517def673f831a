"""Personal messages through the IM platforms' enterprise apps (DingTalk 工作通知 and 待办, WeCom
应用消息, Feishu message cards and tasks): one client per platform behind the ``ImClient`` protocol
of ``base.py``; ``CLIENTS`` maps a channel type to the factory of its client."""
