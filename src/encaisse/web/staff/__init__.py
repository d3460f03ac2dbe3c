# SPDX-License-Identifier: AGPL-3.0-or-later
"""The staff back-office: Django's admin, its site, its model admins and its staff forms.

All of it lives here, in the top layer, because a back-office page reads and writes across every
app (a customer's page shows their ledger transactions and invoices and records a payment) and
reuses the panel's money filters; the apps below import nothing of it. ``encaisse.web.admin``,
which Django's admin autodiscovery imports, registers the model admins on the staff site
(:class:`~encaisse.web.staff.site.StaffAdminSite`, made ``admin.site`` by
``encaisse.web.apps.StaffAdminConfig``).

The back-office is *read-mostly* for money: see :mod:`encaisse.web.staff.readonly`.
"""
