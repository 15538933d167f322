"""Triggers: ``/hooks/github``, ``/hooks/gitlab``, ``/hooks/slack``, ``/hooks/generic/<name>``.

Installed by ``webhook.app.create_app`` through ``views.init_app``; the ``hooks`` and
``rules`` config sections are parsed by ``settings`` (free of Flask, read by the worker too).
"""
