"""The model card's governance sections: intended use, out-of-scope uses, limitations and
human oversight. The fairness table (``fairness``) and the compliance comparison
(``compliance``) sit next to them in the card; ``/model`` serves all of it."""

from __future__ import annotations

from collections.abc import Sequence

from contract.bundle import ModelCard
from contract.explain import AGE_FIELD, ELDERLY_AGE


def sections(*, source: str, rows: int, rows_train: int, rows_test: int,
             default_rate: float, protected: Sequence[str]) -> ModelCard:
    """The card keys intended_use, out_of_scope_uses, limitations and human_oversight."""
    return {
        "intended_use": (
            "Decision support for consumer loan origination: estimate the probability that "
            "an applicant has payment difficulties, propose approve or decline at the "
            "cost-optimal threshold, and give the principal reasons in plain language. "
            "Every decline can be reviewed by a person (see human_oversight)."),
        "out_of_scope_uses": [
            "fully automated declines with no route to human review",
            "pricing, credit limits, collections, marketing or any decision other than "
            "approve/decline of the application scored",
            "employment, insurance, housing or any non-credit decision",
            "populations or products unlike the training data (other countries, business "
            "loans, mortgages)",
            "inferring an applicant's sex, age, marital status or any protected characteristic",
        ],
        "limitations": {
            "training_data": (
                f"{source}: {rows:,} applications of the Home Credit Default Risk schema, "
                f"{default_rate:.1%} with payment difficulties; a historical, single-lender "
                "population whose past approval policy shaped who is in the data (no "
                "outcomes exist for applicants declined then)."),
            "sample_size": (
                f"{rows_train:,} rows for training and cross-validation, {rows_test:,} held "
                "out for the test metrics; small groups (e.g. applicants aged 62+) have wide "
                "confidence intervals in the fairness table."),
            "protected_attributes": (
                f"{', '.join(protected)} never reach the model, neither directly nor "
                "through an engineered feature; other fields may still correlate with them, "
                "which the fairness table measures rather than rules out."),
            "age": _age_note(protected),
            "drift": "performance holds only while applicants resemble the training data; "
                     "the drift job compares live traffic with the reference weekly.",
        },
        "human_oversight": {
            "right_to_review": (
                "Under GDPR Article 22 a declined applicant may obtain human intervention, "
                "express their point of view and contest the decision. The decline notice "
                "gives the principal reasons (the response's `reasons`) and how to ask for "
                "a review."),
            "how": (
                "A credit officer reviews the application with the model's probability, "
                "threshold and reasons, may request further documents and may override the "
                "proposed decision; the override and its grounds are recorded with the "
                "application's capture id."),
            "monitoring": (
                "Decline rates by gender, age band and marital status on captured traffic "
                "are compared "
                "with this card's reference in the drift report; a group whose approval "
                "ratio falls under 0.8 is escalated for review of the model."),
        },
    }


def _age_note(protected: Sequence[str]) -> str:
    if AGE_FIELD in protected:
        return (f"age ({AGE_FIELD}) and every feature computed from it are left out of the "
                "model; age is captured for fairness monitoring only.")
    return (f"age-derived features are used; an applicant aged {ELDERLY_AGE} or over never "
            "receives a risk-raising reason derived from age.")
