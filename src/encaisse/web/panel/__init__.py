# SPDX-License-Identifier: AGPL-3.0-or-later
"""The customer panel: a customer's billing pages (French first, English complete).

Every view is reached through :func:`encaisse.web.panel.access.customer_view`, which resolves the
signed-in user's own customer; objects are then looked up *within* that customer, so another
customer's object is a 404 by construction.
"""
