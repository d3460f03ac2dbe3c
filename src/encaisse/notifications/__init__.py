# SPDX-License-Identifier: AGPL-3.0-or-later
"""E-mails to customers, in their language: invoice issued, payment received, balance low."""
