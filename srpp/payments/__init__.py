"""Invoices, payments, late-payment interest and the council's payment figures."""
