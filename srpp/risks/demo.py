"""Demo data of the risk register, made through the services: the owners resolved to the demo users, a
review of every risk (twice a year, as Jelgava county does: the first confirms the register's rating, the
second changes some), corrective actions for some risks, a manual programme target marked done, and the
alert scan over the indicator values loaded by then (run this step after the indicator demo)."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from srpp.auth.models import User
from srpp.extensions import db
from srpp.risks import services
from srpp.risks.models import Rating

#: the second review's new rating and note, by risk code
SECOND: dict[str, tuple[str, str, str]] = {
    "1.1": ("medium", "medium", "Paskelbtas regiono SAVP vadovas ir savivaldybių aprašai; rezervuotų dalių daugėja."),
    "1.2": ("high", "medium", "Klaidų pasiūlymuose vis dar daug: reikia daugiau mentorystės valandų."),
    "3": ("medium", "high", "Pasirašytos preliminariosios sutartys; vienas pasitraukimas įvykdytas laiku."),
    "5.1": ("high", "high", "Vėluojantys mokėjimai ir darbų sustabdymai kai kuriose savivaldybėse."),
    "8": ("medium", "medium", "Ne visos savivaldybės pateikė pusmečio duomenis laiku."),
    "12.1": ("low", "low", "Socialinio turto sąrašas paskelbtas, naudojimas stebimas."),
}

#: corrective actions (risk code, title, owner, e-mail or None, days from the second review to the due date,
#: completed days after the review or None)
ACTIONS = [
    ("1.2", "Surengti dvi pasiūlymų rengimo klinikas naujiems tiekėjams", "Regiono kontaktinis centras",
     "council@demo.srpp.lt", 45, None),
    ("5.1", "Peržiūrėti mokėjimų grafikus sutartyse su SEO ir numatyti avansą", "Savivaldybių finansų skyriai",
     "finance.pan-c@demo.srpp.lt", 30, None),
    ("5.1", "Parengti apyvartinio fondo taisyklių projektą", "Regiono plėtros taryba", None, -20, None),
    ("8", "Priminti savivaldybėms apie pusmečio duomenų protokolo terminus", "PRPT analitikas",
     "council@demo.srpp.lt", 14, 5),
    ("3", "Suderinti bendrą demencijos dienos centro specifikaciją", "Kupiškio rajono savivaldybė",
     "officer.kup@demo.srpp.lt", 60, None),
]


def _user(email: str | None) -> User | None:
    return db.session.scalar(select(User).where(User.email == email)) if email else None


def load(today: dt.date | None = None) -> None:
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):  # notifications carry links
        _load(today or dt.date.today())


def _load(today: dt.date) -> None:
    services.link_owners()  # the reference data was loaded before the demo users existed
    council = _user("council@demo.srpp.lt")
    first_on, second_on = today - dt.timedelta(days=250), today - dt.timedelta(days=70)
    risks = {r.code: r for r in services.all_risks()}
    second_reviews = {}
    for risk in risks.values():
        measures = "\n".join(risk.mitigation_items[:2]) or None
        services.add_review(council, risk, services.ReviewInput(
            reviewed_on=first_on, likelihood=risk.initial_likelihood.value, impact=risk.initial_impact.value,
            preventive_measures=measures, responsible_unit=risk.owner_text_lt,
            note="Pirmoji peržiūra: registro įvertinimas patvirtintas."), today=today)
        if risk.code in SECOND:
            likelihood, impact, note = SECOND[risk.code]
            second_reviews[risk.code] = services.add_review(council, risk, services.ReviewInput(
                reviewed_on=second_on, likelihood=likelihood, impact=impact,
                preventive_measures=measures if (likelihood, impact) != (Rating.LOW, Rating.LOW) else None,
                responsible_unit=risk.owner_text_lt, note=note), today=today)
    for code, title, owner, email, due_days, done_days in ACTIONS:
        user = _user(email)
        action = services.add_action(council, risks[code], services.ActionInput(
            title=title, owner_text=owner, due_on=second_on + dt.timedelta(days=due_days),
            owner_user_id=user.id if user else None), review=second_reviews.get(code))
        if done_days is not None:
            services.complete_action(council, action, second_on + dt.timedelta(days=done_days), None, today=today)
    target = services.get_target("T1.5")
    if target is not None and target.done_on is None:
        services.mark_target(council, target, min(today, services.programme_start() + dt.timedelta(days=75)),
                             "PRPT sprendimas Nr. 5: patvirtintas bendras rodiklių rinkinys (1.0) ir duomenų "
                             "protokolas.", today=today)
    services.scan_alerts()
    db.session.flush()
