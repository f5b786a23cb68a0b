"""Headless CMSs as sources: a change feed in, localized entries back (see ``daemon.cms.source``)."""
