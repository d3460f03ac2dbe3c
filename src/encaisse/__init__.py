# SPDX-License-Identifier: AGPL-3.0-or-later
"""Encaisse: collects the money of a web-hosting or SaaS provider."""
