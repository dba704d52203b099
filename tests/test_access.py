"""The access matrix: every route, each role and an anonymous visitor."""

from __future__ import annotations

import pytest

ROLES = {
    "anon": None,
    "admin": "admin@demo.srpp.lt",
    "council": "council@demo.srpp.lt",
    "seo": "seo@demo.srpp.lt",
    "officer": "officer.rok@demo.srpp.lt",
    "finance": "finance.rok@demo.srpp.lt",
}

LOGIN = "login"  # a redirect to the login page
# (method, url, {role: status}); "*" gives the status for the roles not named
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/", {"*": 200}),
    ("GET", "/healthz", {"*": 200}),
    ("GET", "/readyz", {"*": 200}),
    ("GET", "/login", {"anon": 200, "*": 302}),
    ("POST", "/login", {"anon": 200, "*": 302}),
    ("POST", "/logout", {"*": 302}),
    ("POST", "/language", {"*": 302}),
    ("GET", "/language/lt", {"*": 302}),
    ("GET", "/password/forgot", {"*": 200}),
    ("POST", "/password/forgot", {"*": 200}),
    ("GET", "/password/reset/not-a-token", {"*": 302}),
    ("POST", "/password/reset/not-a-token", {"*": 302}),
    ("GET", "/account", {"anon": LOGIN, "*": 200}),
    ("POST", "/account", {"anon": LOGIN, "*": 200}),
    ("GET", "/municipalities", {"*": 200}),
    ("GET", "/municipalities/ROK", {"*": 200}),
    ("GET", "/municipalities/ROK/edit", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("GET", "/municipalities/BIR/edit", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/municipalities/BIR/edit", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/suppliers", {"anon": LOGIN, "*": 200}),
    ("GET", "/suppliers/{seo_supplier}", {"anon": LOGIN, "*": 200}),
    ("GET", "/suppliers/{seo_supplier}/edit", {"anon": LOGIN, "admin": 200, "seo": 200, "*": 403}),
    ("GET", "/suppliers/{other_supplier}/edit", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/suppliers/{other_supplier}/edit", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/cpv/", {"*": 200}),
    ("GET", "/cpv/search.json", {"*": 200}),
    ("GET", "/admin/users", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("GET", "/admin/users/new", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/admin/users/new", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("GET", "/admin/users/{officer_user}", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/admin/users/{officer_user}", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/admin/users/{officer_user}/memberships", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("POST", "/admin/users/{officer_user}/unlock", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("POST", "/admin/memberships/{officer_membership}/delete", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/admin/users/{officer_user}/personal-data", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/admin/users/{officer_user}/erase", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/admin/audit", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("GET", "/admin/workers", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/admin/workers/ping", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/admin/settings", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/admin/settings", {"anon": LOGIN, "admin": 302, "*": 403}),
    # plans (ROK's published demo plan; "officer" is officer.rok)
    # exports (issue 9): the same filters and permissions as their pages
    ("GET", "/region/plan.csv", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/region/plan.xlsx", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/opportunities.csv", {"*": 200}),
    ("GET", "/opportunities.xlsx", {"*": 200}),
    ("GET", "/frameworks/export.csv", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/frameworks/export.xlsx", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/contracts/export.csv", {"anon": LOGIN, "*": 200}),
    ("GET", "/contracts/export.xlsx", {"anon": LOGIN, "*": 200}),
    ("GET", "/payments/dashboard.csv", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 200}),
    ("GET", "/payments/dashboard.xlsx", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 200}),
    ("GET", "/payments/dashboard/ROK/invoices.csv", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 200}),
    ("GET", "/payments/dashboard/ROK/invoices.xlsx?list=late", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 200}),
    ("GET", "/payments/dashboard/BIR/invoices.csv", {"anon": LOGIN, "seo": 403, "officer": 403, "finance": 403, "*": 200}),
    ("GET", "/payments/dashboard/XXX/invoices.csv", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 404}),
    # OCDS release packages (issue 9): public, published processes only
    ("GET", "/api/ocds/release-package.json", {"*": 200}),
    ("GET", "/api/ocds/release-package-full.json", {"*": 200}),
    ("GET", "/api/ocds/releases/ocds-srpp01-tender-{pas_tender}.json", {"*": 200}),
    ("GET", "/api/ocds/releases/ocds-srpp01-tender-{rok_tender}.json", {"*": 404}),
    # JSON API (issue 9): public reads answer everyone
    ("GET", "/api/v1/openapi.json", {"*": 200}),
    ("GET", "/api/v1/docs", {"*": 200}),
    ("POST", "/api/v1/plan-items", {"*": 401}),
    ("PATCH", "/api/v1/plan-items/{rok_item_uid}", {"*": 401}),
    ("DELETE", "/api/v1/plan-items/{rok_item_uid}", {"*": 401}),
    ("POST", "/api/v1/invoices/import", {"*": 401}),
    ("GET", "/account/api-tokens", {"anon": LOGIN, "*": 200}),
    ("POST", "/account/api-tokens", {"anon": LOGIN, "*": 200}),
    ("POST", "/account/api-tokens/{officer_token}/revoke", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("GET", "/api/v1/municipalities", {"*": 200}),
    ("GET", "/api/v1/municipalities/ROK", {"*": 200}),
    ("GET", "/api/v1/plans", {"*": 200}),
    ("GET", "/api/v1/plans/{rok_plan}", {"*": 200}),
    ("GET", "/api/v1/plans/999999999", {"*": 404}),
    ("GET", "/api/v1/plan-versions/{rok_version}", {"*": 200}),
    ("GET", "/api/v1/plan-items", {"*": 200}),
    ("GET", "/api/v1/plan-items/{rok_item_uid}", {"*": 200}),
    ("GET", "/api/v1/tenders", {"*": 200}),
    ("GET", "/api/v1/tenders/{rok_tender}", {"anon": 404, "seo": 403, "*": 200}),
    ("GET", "/api/v1/lots", {"*": 200}),
    ("GET", "/api/v1/lots/{rok_lot}", {"anon": 404, "seo": 403, "*": 200}),
    ("GET", "/api/v1/lots/{pas_lot}", {"*": 200}),
    ("GET", "/api/v1/frameworks", {"*": 200}),
    ("GET", "/api/v1/frameworks/{fa_mob}", {"*": 200}),
    ("GET", "/api/v1/call-offs", {"anon": 401, "seo": 403, "*": 200}),
    ("GET", "/api/v1/call-offs/999999999", {"anon": 401, "seo": 403, "*": 404}),
    ("GET", "/api/v1/contracts", {"anon": 401, "*": 200}),
    ("GET", "/api/v1/contracts/{rok_contract}", {"anon": 401, "*": 200}),
    ("GET", "/api/v1/contracts/{rok_other_contract}", {"anon": 401, "seo": 403, "*": 200}),
    ("GET", "/api/v1/contracts/{rok_contract}/milestones", {"anon": 401, "*": 200}),
    ("GET", "/api/v1/contracts/{rok_other_contract}/milestones", {"anon": 401, "seo": 403, "*": 200}),
    ("GET", "/api/v1/milestones", {"anon": 401, "*": 200}),
    ("GET", "/api/v1/invoices", {"anon": 401, "*": 200}),
    ("GET", "/api/v1/invoices/{rok_invoice}", {"anon": 401, "*": 200}),
    ("GET", "/api/v1/invoices/999999999", {"anon": 401, "*": 404}),
    ("GET", "/api/v1/indicators", {"*": 200}),
    ("GET", "/api/v1/indicators/F1", {"*": 200}),
    ("GET", "/api/v1/indicators/R-BID-ERROR-RATE", {"anon": 404, "seo": 403, "*": 200}),
    ("GET", "/plans/municipality/ROK", {"*": 200}),
    ("POST", "/plans/municipality/ROK/new", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("GET", "/plans/{rok_plan}", {"*": 302}),
    ("GET", "/plans/{rok_plan}/history", {"*": 200}),
    ("POST", "/plans/{rok_plan}/new-version", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("GET", "/plans/versions/{rok_version}", {"*": 200}),
    ("GET", "/plans/versions/{rok_version}/items/new", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/plans/versions/{rok_version}/items/new", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/plans/versions/{rok_version}/publish", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("GET", "/plans/items/{rok_item}/edit", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/plans/items/{rok_item}/edit", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/plans/items/{rok_item}/delete", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    # plan import / export: templates and exports of published versions are public; importing into a
    # published version answers 200 with the refusal message (only drafts take imports)
    ("GET", "/plans/import-template.xlsx", {"*": 200}),
    ("GET", "/plans/import-template.csv", {"*": 200}),
    ("GET", "/plans/versions/{rok_version}/export.csv", {"*": 200}),
    ("GET", "/plans/versions/{rok_version}/export.xlsx", {"*": 200}),
    ("GET", "/plans/versions/{rok_version}/import", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/plans/versions/{rok_version}/import", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("GET", "/region/plan", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/region/reserved-share", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/opportunities", {"*": 200}),
    ("GET", "/opportunities/0123456789abcdef0123456789abcdef", {"*": 404}),
    ("GET", "/opportunities.atom", {"*": 200}),
    ("GET", "/opportunities.ics", {"*": 200}),
    ("GET", "/saved-searches", {"anon": LOGIN, "*": 200}),
    ("POST", "/saved-searches", {"anon": LOGIN, "*": 302}),
    ("POST", "/saved-searches/999999999/delete", {"anon": LOGIN, "*": 404}),
    # SEO directory and eligibility statuses: status ids 999999999 do not exist, so the decision and
    # evidence routes answer 404 after the login check (anon: login); the permissions on real statuses
    # (403 for other organisations' members, officers and finance staff) are tested in tests/test_suppliers.py
    ("GET", "/directory", {"*": 200}),
    ("GET", "/suppliers/{seo_supplier}/statuses", {"anon": LOGIN, "*": 200}),
    ("POST", "/suppliers/{seo_supplier}/statuses", {"anon": LOGIN, "admin": 200, "seo": 200, "*": 403}),
    ("POST", "/suppliers/{other_supplier}/statuses", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("GET", "/statuses/review", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("POST", "/statuses/999999999/verify", {"anon": LOGIN, "*": 404}),
    ("POST", "/statuses/999999999/reject", {"anon": LOGIN, "*": 404}),
    ("GET", "/statuses/999999999/evidence", {"anon": LOGIN, "*": 404}),
    # tenders and lots (srpp/tenders/views.py): {rok_tender} is a ROK draft tender with its lots
    # (demo data when there is one, else made inside the test's rolled-back transaction, see _tender_ids).
    # Drafts: anonymous 404, staff of other municipalities and SEO members 403. Empty POSTs answer 200
    # (the form again, with its errors) or 302 (a flashed refusal); deleting the last lot runs last.
    ("GET", "/tenders/", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/tenders/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/tenders/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("GET", "/tenders/{rok_tender}", {"anon": 404, "seo": 403, "*": 200}),
    ("POST", "/tenders/{rok_tender}/edit", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/tenders/{rok_tender}/transition", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("GET", "/tenders/{rok_tender}/lots/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/tenders/{rok_tender}/lots/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("GET", "/tenders/lots/{rok_lot}", {"anon": 404, "seo": 403, "*": 200}),
    ("GET", "/tenders/lots/{rok_lot}/edit", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/tenders/lots/{rok_lot}/edit", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/tenders/lots/{rok_lot}/criteria", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/tenders/lots/{rok_lot}/bids", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/tenders/lots/{rok_lot}/award", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/tenders/lots/{rok_lot}/unsuccessful", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/tenders/lots/{rok_lot}/replan", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/tenders/lots/{rok_last_lot}/delete", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    # open lots in the pipeline and market engagement (srpp/public, srpp/engagement): an open lot of
    # PAS's published demo tender (so ROK's staff may not list its interested organisations) and a
    # planned ROK item; withdrawing an interest is tested on real rows in tests/test_engagement.py
    ("GET", "/opportunities/lots/{pas_lot}", {"*": 200}),
    ("GET", "/opportunities/{rok_item_uid}", {"*": 200}),
    ("POST", "/opportunities/{rok_item_uid}/interest", {"anon": LOGIN, "seo": 302, "*": 403}),
    ("POST", "/opportunities/lots/{pas_lot}/interest", {"anon": LOGIN, "seo": 302, "*": 403}),
    ("POST", "/interests/999999999/withdraw", {"anon": LOGIN, "*": 404}),
    ("GET", "/interests", {"anon": LOGIN, "seo": 200, "*": 403}),
    # frameworks
    # framework pages (srpp/frameworks/views.py): {fa_mob} is the demo FA-MOB-DRT-2026 coordinated by KUP, in
    # which ROK participates ({rok_participant}); officer.rok is a participant, not the coordinator. Empty POSTs
    # answer 200 (the form again, with its errors) or 302 (a flashed refusal); officer.rok's acknowledgement works.
    ("GET", "/frameworks/", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/frameworks/coordinators", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("POST", "/frameworks/coordinators", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("GET", "/frameworks/new", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/frameworks/new", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("GET", "/frameworks/{fa_mob}", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/frameworks/999999", {"anon": LOGIN, "seo": 403, "*": 404}),
    ("GET", "/frameworks/{fa_mob}/edit", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/edit", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/state", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/frameworks/{fa_mob}/specification", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/frameworks/{fa_mob}/specification/new", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/specification/new", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/acknowledge", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/participants", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("POST", "/frameworks/participants/{rok_participant}/cap", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/parties", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/prices", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/events", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/interests/lots/{pas_lot}", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("GET", "/interests/items/{rok_item_uid}", {"anon": LOGIN, "seo": 403, "*": 200}),
    # call-offs, opt-outs and framework dashboards (srpp/frameworks/calloff_views.py) on {fa_mob}, in which
    # ROK participates; an empty call-off POST shows the form again (200); officer.rok's opt-out works (302)
    ("GET", "/frameworks/{fa_mob}/call-offs/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/frameworks/{fa_mob}/call-offs/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("GET", "/frameworks/{fa_mob}/dashboard", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/frameworks/overview", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("POST", "/frameworks/participants/{rok_participant}/opt-out",
     {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("GET", "/opportunities/frameworks/{fa_mob}", {"*": 200}),
    # clause library and documents (srpp/clauses, srpp/documents): officer.rok may generate the documents of
    # ROK's tender; the framework agreement is the coordinator's (KUP), so officer.rok gets 403 there. The
    # permissions on real generated documents are tested in tests/test_documents.py; 999999999 does not exist.
    ("GET", "/clauses/", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("POST", "/clauses/load", {"anon": LOGIN, "admin": 302, "*": 403}),
    ("GET", "/clauses/PAYMENT-TERM", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/documents/", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/documents/region", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/documents/for/tender/{rok_tender}", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/documents/new/tender_specification/tender/{rok_tender}",
     {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/documents/new/tender_specification/tender/{rok_tender}",
     {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("GET", "/documents/new/framework_agreement/framework/{fa_mob}", {"anon": LOGIN, "admin": 200, "*": 403}),
    ("GET", "/documents/new/handbook/region/{region}", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/documents/new/implementation_note/municipality/{rok}",
     {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/documents/new/implementation_note/municipality/{bir}",
     {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("GET", "/documents/999999999", {"anon": LOGIN, "*": 404}),
    ("GET", "/documents/999999999/status", {"anon": LOGIN, "*": 404}),
    ("GET", "/documents/999999999/download", {"anon": LOGIN, "*": 404}),
    ("GET", "/documents/999999999/download.pdf", {"anon": LOGIN, "*": 404}),
    ("POST", "/documents/999999999/pdf", {"anon": LOGIN, "*": 404}),
    ("POST", "/documents/999999999/retry", {"anon": LOGIN, "*": 404}),
    # contracts and invoices (srpp/contracts/views.py). {rok_contract}: a ROK contract of the SEO's supplier
    # (990000001); {rok_other_contract}: a ROK contract of another supplier; {rok_invoice}: an invoice on
    # {rok_contract}. Empty POSTs show the form again (200); an empty value amendment flashes and redirects (302).
    ("GET", "/contracts/", {"anon": LOGIN, "*": 200}),
    ("GET", "/contracts/new", {"anon": LOGIN, "admin": 200, "officer": 200, "finance": 200, "*": 403}),
    ("POST", "/contracts/new", {"anon": LOGIN, "admin": 200, "officer": 200, "finance": 200, "*": 403}),
    ("GET", "/contracts/{rok_contract}", {"anon": LOGIN, "*": 200}),
    ("GET", "/contracts/{rok_other_contract}", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/contracts/999999999", {"anon": LOGIN, "*": 404}),
    ("POST", "/contracts/{rok_contract}/terms", {"anon": LOGIN, "admin": 200, "officer": 200, "finance": 200, "*": 403}),
    ("POST", "/contracts/{rok_contract}/value", {"anon": LOGIN, "admin": 302, "officer": 302, "finance": 302, "*": 403}),
    ("GET", "/contracts/{rok_contract}/milestones",
     {"anon": LOGIN, "admin": 200, "officer": 200, "finance": 200, "*": 403}),
    ("POST", "/contracts/{rok_contract}/milestones",
     {"anon": LOGIN, "admin": 200, "officer": 200, "finance": 200, "*": 403}),
    ("POST", "/contracts/{rok_contract}/invoices", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    ("POST", "/contracts/{rok_contract}/stoppages", {"anon": LOGIN, "council": 403, "*": 200}),
    ("GET", "/invoices/{rok_invoice}", {"anon": LOGIN, "*": 200}),
    ("GET", "/invoices/999999999", {"anon": LOGIN, "*": 404}),
    ("POST", "/invoices/{rok_invoice}/accept", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    ("POST", "/invoices/{rok_invoice}/dispute", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    ("POST", "/invoices/{rok_invoice}/resolve", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    ("POST", "/invoices/{rok_invoice}/payments", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    # payments (srpp/payments/views.py): dashboard = payments.dashboard (admin, council, finance officers);
    # ROK's reports: its finance officer, admins, council (read-only); an empty POST shows the form again (200).
    # Report 999999999 does not exist; the report flow is tested on real rows in tests/test_payment_dashboard.py.
    ("GET", "/payments/dashboard", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 200}),
    ("GET", "/payments/dashboard/BIR", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 200}),
    ("GET", "/payments/reports", {"*": 200}),
    ("GET", "/payments/municipalities/ROK/reports",
     {"anon": LOGIN, "admin": 200, "council": 200, "finance": 200, "*": 403}),
    ("POST", "/payments/municipalities/ROK/reports", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    ("GET", "/payments/reports/999999999", {"*": 404}),
    ("GET", "/payments/reports/999999999/document", {"*": 404}),
    ("POST", "/payments/reports/999999999/approve", {"anon": LOGIN, "*": 404}),
    ("POST", "/payments/reports/999999999/publish", {"anon": LOGIN, "*": 404}),
    ("POST", "/payments/reports/999999999/regenerate", {"anon": LOGIN, "*": 404}),
    ("GET", "/payments/rates", {"anon": LOGIN, "seo": 403, "officer": 403, "*": 200}),
    ("POST", "/payments/rates", {"anon": LOGIN, "admin": 200, "*": 403}),
    # supplier payments and the invoice import (srpp/payments/supplier_views.py): {seo_supplier} is VšĮ "Jautri
    # širdis", {other_supplier} another organisation; an empty import POST shows the form again with its errors (200)
    ("GET", "/payments/mine", {"anon": LOGIN, "admin": 200, "council": 200, "seo": 200, "*": 403}),
    ("GET", "/payments/suppliers/{seo_supplier}", {"anon": LOGIN, "admin": 200, "council": 200, "seo": 200, "*": 403}),
    ("GET", "/payments/suppliers/{other_supplier}", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("GET", "/payments/import-template.csv", {"*": 200}),
    ("GET", "/payments/import-template.xlsx", {"*": 200}),
    ("GET", "/payments/import", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    ("POST", "/payments/import", {"anon": LOGIN, "admin": 200, "finance": 200, "*": 403}),
    # social assets (srpp/assets/views.py): the list and public asset pages are public. {rok_asset} is the demo's ROK
    # asset lent to the SEO's organisation (990000001), {rok_asset_assignment} its active assignment. Empty POSTs show
    # the page or form again with the errors (200); an empty state change flashes and redirects (302).
    ("GET", "/assets/", {"*": 200}),
    ("GET", "/assets/{rok_asset}", {"*": 200}),
    ("GET", "/assets/999999999", {"*": 404}),
    ("GET", "/assets/review", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/assets/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/assets/new", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("GET", "/assets/{rok_asset}/edit", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/assets/{rok_asset}/edit", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/assets/{rok_asset}/state", {"anon": LOGIN, "admin": 302, "officer": 302, "*": 403}),
    ("POST", "/assets/{rok_asset}/assign", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/assets/{rok_asset}/return", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    ("POST", "/assets/assignments/{rok_asset_assignment}/report",
     {"anon": LOGIN, "admin": 200, "officer": 200, "seo": 200, "*": 403}),
    ("POST", "/assets/{rok_asset}/audits", {"anon": LOGIN, "admin": 200, "officer": 200, "*": 403}),
    # data protocol (srpp/reporting/views.py): {rok_submission} ROK's own submission, {rok_seo_submission} the
    # submission of {rok_contract} (the SEO's ROK contract). Empty POSTs show the form again (200; without a version
    # nothing is saved)
    ("GET", "/reporting/", {"anon": LOGIN, "*": 200}),
    ("GET", "/reporting/overview", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("POST", "/reporting/open", {"anon": LOGIN, "admin": 302, "council": 302, "*": 403}),
    ("GET", "/reporting/{rok_submission}", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("POST", "/reporting/{rok_submission}", {"anon": LOGIN, "admin": 200, "officer": 200, "finance": 200, "*": 403}),
    ("POST", "/reporting/{rok_submission}/upload",
     {"anon": LOGIN, "admin": 200, "officer": 200, "finance": 200, "*": 403}),
    ("GET", "/reporting/{rok_submission}/template.csv", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/reporting/{rok_submission}/template.xlsx", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/reporting/{rok_seo_submission}", {"anon": LOGIN, "*": 200}),
    ("POST", "/reporting/{rok_seo_submission}", {"anon": LOGIN, "council": 403, "*": 200}),
    ("POST", "/reporting/{rok_seo_submission}/upload", {"anon": LOGIN, "council": 403, "*": 200}),
    ("GET", "/reporting/999999999", {"anon": LOGIN, "*": 404}),
    ("POST", "/reporting/999999999", {"anon": LOGIN, "*": 404}),
    ("POST", "/reporting/999999999/upload", {"anon": LOGIN, "*": 404}),
    ("GET", "/reporting/999999999/template.csv", {"anon": LOGIN, "*": 404}),
    # risk register and programme targets (srpp/risks/views.py); an empty review/action POST shows the form
    # again (200); an empty target mark/reopen POST flashes the reason and redirects (302)
    ("GET", "/risks/", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/risks/1.1", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/risks/6", {"anon": LOGIN, "seo": 403, "*": 404}),
    ("POST", "/risks/1.1/reviews", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("POST", "/risks/1.1/actions", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("POST", "/risks/actions/999999999/complete", {"anon": LOGIN, "*": 404}),
    ("GET", "/risks/targets", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("POST", "/risks/targets/T1.5/mark", {"anon": LOGIN, "admin": 302, "council": 302, "*": 403}),
    ("POST", "/risks/targets/T1.5/reopen", {"anon": LOGIN, "admin": 302, "council": 302, "*": 403}),
    # indicators (srpp/kpis/views.py): staff and regional readers read; the council and admins edit thresholds and
    # recompute (eager: the job runs in-process). An empty thresholds POST has no version: the form again (200).
    ("GET", "/indicators/", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("POST", "/indicators/recompute", {"anon": LOGIN, "admin": 302, "council": 302, "*": 403}),
    ("GET", "/indicators/F1", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("POST", "/indicators/F1/thresholds", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("GET", "/indicators/F1/2026H1/region", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/indicators/F1/2026H1/ROK", {"anon": LOGIN, "seo": 403, "*": 200}),
    # indicator dashboards, the public progress scoreboard and the annual impact report (srpp/kpis/dashboards.py);
    # an empty report POST from the council or an admin fails validation and redirects back (302)
    ("GET", "/indicators/dashboard", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/indicators/municipalities/ROK", {"anon": LOGIN, "seo": 403, "*": 200}),
    ("GET", "/indicators/municipalities/BIR", {"anon": LOGIN, "admin": 200, "council": 200, "*": 403}),
    ("POST", "/indicators/dashboard/report", {"anon": LOGIN, "admin": 302, "council": 302, "*": 403}),
    ("GET", "/indicators/scoreboard", {"*": 200}),
]


def _ids(app):
    from sqlalchemy import select

    from srpp.auth.models import Membership, User
    from srpp.extensions import db
    from srpp.orgs.models import Supplier

    with app.app_context():
        seo = db.session.scalar(select(Supplier).where(Supplier.company_code == "990000001"))
        other = db.session.scalar(select(Supplier).where(Supplier.company_code == "990000002"))
        officer = db.session.scalar(select(User).where(User.email == "officer.rok@demo.srpp.lt"))
        membership = db.session.scalar(select(Membership).where(Membership.user_id == officer.id))
        from srpp.orgs.services import municipality_by_code
        from srpp.plans.services import current_published

        rok_version = current_published(municipality_by_code("ROK"))
        from srpp.api import services as api_services

        token, _plain = api_services.issue(officer, "access matrix")
        db.session.commit()
        ids = {"seo_supplier": seo.id, "other_supplier": other.id, "officer_user": officer.id,
               "officer_membership": membership.id, "rok_version": rok_version.id,
               "rok_plan": rok_version.plan_id, "rok_item": rok_version.items[0].id,
               "officer_token": token.id}
        ids.update(_tender_ids(officer, rok_version))
        from srpp.tenders.models import Lot, LotState, Tender, TenderState

        pas_lot = db.session.scalar(
            select(Lot).join(Tender).where(Tender.state == TenderState.PUBLISHED, Lot.state == LotState.OPEN,
                                           Tender.municipality_id == municipality_by_code("PAS").id).limit(1))
        ids.update(pas_lot=pas_lot.id, pas_tender=pas_lot.tender_id, rok_item_uid=rok_version.items[0].uid)
        from srpp.frameworks.models import FrameworkAgreement

        fa_mob = db.session.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == "FA-MOB-DRT-2026"))
        rok = municipality_by_code("ROK")
        ids.update(fa_mob=fa_mob.id,
                   rok_participant=next(p.id for p in fa_mob.participants if p.municipality_id == rok.id))
        ids.update(region=rok.region_id, rok=rok.id, bir=municipality_by_code("BIR").id)
        ids.update(_contract_ids(rok, seo, other))
        ids.update(_reporting_ids(ids))
        from srpp.assets.models import SocialAsset

        rok_asset = next(a for a in db.session.scalars(select(SocialAsset).where(
            SocialAsset.municipality_id == rok.id, SocialAsset.public.is_(True)).order_by(SocialAsset.id))
            if a.active_assignment is not None and a.active_assignment.supplier_id == seo.id)
        ids.update(rok_asset=rok_asset.id, rok_asset_assignment=rok_asset.active_assignment.id)
        return ids


def _reporting_ids(ids) -> dict[str, int]:
    """ROK's own data submission and the one of {rok_contract}: the demo's, or made for the current half-year."""
    import datetime as dt

    from sqlalchemy import select

    from srpp.extensions import db
    from srpp.payments.calc import half_year
    from srpp.reporting.models import DataSubmission

    start, end = half_year(dt.date.today())

    def submission(contract_id):
        sub = db.session.scalar(select(DataSubmission).where(
            DataSubmission.municipality_id == ids["rok"],
            DataSubmission.contract_id.is_(None) if contract_id is None else DataSubmission.contract_id == contract_id)
            .order_by(DataSubmission.period_start.desc()).limit(1))
        if sub is None:
            sub = DataSubmission(municipality_id=ids["rok"], contract_id=contract_id, period_start=start,
                                 period_end=end, due_on=end + dt.timedelta(days=30))
            db.session.add(sub)
            db.session.commit()
        return sub.id

    return {"rok_submission": submission(None), "rok_seo_submission": submission(ids["rok_contract"])}


def _contract_ids(rok, seo, other_supplier) -> dict[str, int]:
    """A ROK contract of the SEO's supplier with an invoice, and a ROK contract of another supplier:
    the demo's when there are some; otherwise made inside the test's transaction (rolled back)."""
    import datetime as dt
    from decimal import Decimal

    from sqlalchemy import select

    from srpp.auth.models import User
    from srpp.contracts.models import Contract
    from srpp.extensions import db
    from srpp.payments import services as payments
    from srpp.payments.models import Invoice

    contracts = db.session.scalars(select(Contract).where(Contract.municipality_id == rok.id)
                                   .order_by(Contract.id)).all()
    mine = next((c for c in contracts if c.supplier_id == seo.id), None)
    theirs = next((c for c in contracts if c.supplier_id != seo.id), None)
    assert mine is not None and theirs is not None, "the demo needs ROK contracts of the SEO and of another supplier"
    invoice = db.session.scalar(select(Invoice).where(Invoice.contract_id == mine.id).order_by(Invoice.id).limit(1))
    if invoice is None:
        finance = db.session.scalar(select(User).where(User.email == "finance.rok@demo.srpp.lt"))
        invoice = payments.record_invoice(finance, mine, payments.InvoiceInput(
            "ACCESS-MATRIX-1", Decimal("100.00"), dt.date.today(), "EINV-ACCESS-1"))
        db.session.commit()
    return {"rok_contract": mine.id, "rok_other_contract": theirs.id, "rok_invoice": invoice.id}


def _tender_ids(officer, rok_version) -> dict[str, int]:
    """A ROK draft tender with two lots: the demo's when it has one; otherwise one made from two published
    ROK items of the same CPV group inside the test's transaction (rolled back after the test), so the
    rows test real permissions whether or not the demo tenders are loaded."""
    from sqlalchemy import select

    from srpp.extensions import db
    from srpp.orgs.services import municipality_by_code
    from srpp.tenders import services as tenders
    from srpp.tenders.models import Tender, TenderState

    rok = municipality_by_code("ROK")
    tender = next((t for t in db.session.scalars(
        select(Tender).where(Tender.municipality_id == rok.id, Tender.state == TenderState.DRAFT)
        .order_by(Tender.id)) if len(t.lots) >= 2 and not t.mandates), None)
    if tender is None:
        items = [i for i in tenders.tenderable_items(rok) if i.uid != rok_version.items[0].uid]
        groups: dict[str, list] = {}
        for item in items:
            groups.setdefault(item.main_cpv[:4], []).append(item)
        pair = next((g[:2] for g in groups.values() if len(g) >= 2), None)
        assert pair, "no ROK draft tender in the demo data and no two tenderable ROK items to make one"
        tender = tenders.create_from_plan(officer, pair, title="Access matrix tender")
        db.session.commit()
    return {"rok_tender": tender.id, "rok_lot": tender.lots[0].id, "rok_last_lot": tender.lots[-1].id}


def test_matrix_covers_every_route(app):
    """A new route must be added to MATRIX (with the status each role gets) or this fails."""
    adapter = app.url_map.bind("localhost")
    class AnyId(dict):
        def __missing__(self, key):
            return "1"

    covered = {(adapter.match(url.format_map(AnyId()).split("?")[0], method=method)[0], method)
               for method, url, _ in MATRIX}
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - covered == set(), "routes missing from the access matrix"


@pytest.mark.parametrize("role", list(ROLES))
def test_access_matrix(app, client, role):
    ids = _ids(app)
    email = ROLES[role]
    failures = []
    for method, url, expected in MATRIX:
        client.post("/logout")
        if email:
            assert client.post("/login", data={"email": email, "password": "demo12345"}).status_code == 302
        want = expected.get(role, expected.get("*"))
        resp = client.open(url.format(**ids), method=method)
        if want == LOGIN:
            if resp.status_code != 302 or "/login" not in resp.headers.get("Location", ""):
                failures.append(f"{method} {url} as {role}: {resp.status_code} {resp.headers.get('Location')}"
                                " is not a redirect to the login page")
        elif resp.status_code != want:
            failures.append(f"{method} {url} as {role}: {resp.status_code} != {want}")
    assert not failures, "\n".join(failures)


def test_officer_of_rok_cannot_change_bir(app, client, ctx):
    from srpp.orgs.services import municipality_by_code

    bir = municipality_by_code("BIR")
    before = (bir.contact_email, bir.version)
    client.post("/login", data={"email": "officer.rok@demo.srpp.lt", "password": "demo12345"})
    resp = client.post("/municipalities/BIR/edit", data={"contact_email": "hacked@example.org", "version": bir.version})
    assert resp.status_code == 403
    ctx.expire_all()
    bir = municipality_by_code("BIR")
    assert (bir.contact_email, bir.version) == before


def test_service_layer_refuses_other_municipality(ctx):
    from sqlalchemy import select

    from srpp.auth.models import User
    from srpp.core.permissions import PermissionDenied
    from srpp.orgs import services

    officer = ctx.scalar(select(User).where(User.email == "officer.rok@demo.srpp.lt"))
    bir = services.municipality_by_code("BIR")
    with pytest.raises(PermissionDenied):
        services.update_municipality_contacts(officer, bir, {"contact_email": "x@y.lt"}, bir.version)
    rok = services.municipality_by_code("ROK")
    services.update_municipality_contacts(officer, rok, {"contact_email": "new@rok.lt"}, rok.version)
    assert rok.contact_email == "new@rok.lt"


def test_unknown_permission_is_an_error(ctx):
    from sqlalchemy import select

    from srpp.auth.models import User
    from srpp.core.permissions import can

    admin = ctx.scalar(select(User).where(User.email == "admin@demo.srpp.lt"))
    with pytest.raises(LookupError):
        can(admin, "no.such.permission")


def _rok_owned(url: str) -> bool:
    """Rows acting on ROK's own objects: a ROK id placeholder or the ROK code in the URL."""
    return "{rok" in url or "/ROK" in url


@pytest.mark.parametrize("role,counterpart,at_least", [("officer", "officer.bir@demo.srpp.lt", 20),
                                                       ("finance", "finance.bir@demo.srpp.lt", 8)])
def test_another_municipality_cannot_change_rok_objects(app, client, role, counterpart, at_least):
    """Object-level checks, for every resource at once: each change a ROK officer may make to a ROK object
    (a MATRIX row where the ROK role succeeds and an SEO member does not) is refused to the same role of BIR,
    which is what changing the id in the URL gives an attacker. Audit events prove nothing was written."""
    from sqlalchemy import func, select

    from srpp.core.models import AuditEvent
    from srpp.extensions import db

    ids = _ids(app)
    rows = [(m, u) for m, u, exp in MATRIX
            if m != "GET" and _rok_owned(u)
            and exp.get(role, exp.get("*")) in (200, 201, 302)
            and exp.get("seo", exp.get("*")) in (403, 401, 404, LOGIN)]
    assert len(rows) >= at_least, "the object-level check must cover the ROK write routes"

    def audit_count() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count(AuditEvent.id)))

    client.post("/logout")
    assert client.post("/login", data={"email": counterpart, "password": "demo12345"}).status_code == 302
    before = audit_count()
    failures = []
    for method, url in rows:
        resp = client.open(url.format(**ids), method=method)
        if resp.status_code not in (403, 404):
            failures.append(f"{method} {url} as {counterpart}: {resp.status_code}")
    assert not failures, "\n".join(failures)
    # the login itself may be audited (last_login_at); nothing else
    assert audit_count() - before == 0


def test_every_other_http_method_is_refused(app, client):
    """Every URL answers 405 (never 500, never a handler) to the methods no route declares for it."""
    import re

    from werkzeug.exceptions import MethodNotAllowed, NotFound

    adapter = app.url_map.bind("localhost")
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in ("PUT", "PATCH", "DELETE", "POST", "GET"):
            try:
                adapter.match(url, method=method)
                continue  # some route takes this method at this URL
            except (MethodNotAllowed, NotFound):
                pass
            resp = client.open(url, method=method)
            if resp.status_code not in (404, 405):
                failures.append(f"{method} {rule.rule}: {resp.status_code}")
    assert not failures, "\n".join(failures[:30])
