"""How a petition is doing, for the organiser dashboard (organisers may count)."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from campaign.extensions import db
from campaign.petition.models import Petition, Signature, SignatureState
from campaign.timeseries import CHART_DAYS, CHART_HOURS, per_bucket


@dataclass
class PetitionStats:
    """Counts, rates and series for one petition."""

    by_state: dict[SignatureState, int]
    opt_ins: int
    per_day: list[tuple[datetime, int]]
    per_hour: list[tuple[datetime, int]]
    top_countries: list[tuple[str, int]]
    latest: list[Signature] = field(default_factory=list)

    @property
    def confirmed(self) -> int:
        """Validated signatures."""
        return self.by_state.get(SignatureState.VALIDATED, 0)

    @property
    def pending(self) -> int:
        """Signatures waiting for their email link."""
        return self.by_state.get(SignatureState.PENDING, 0)

    @property
    def removed(self) -> int:
        """Signatures organisers invalidated or marked fraudulent."""
        return self.by_state.get(SignatureState.INVALIDATED, 0) + self.by_state.get(
            SignatureState.FRAUDULENT, 0
        )

    @property
    def confirmation_rate(self) -> float:
        """Share of signatures whose owner followed the link."""
        total = sum(self.by_state.values())
        return self.confirmed / total if total else 0.0


def petition_stats(petition: Petition) -> PetitionStats:
    """Everything the petition dashboard shows."""
    of_petition = Signature.petition_id == petition.id
    validated = sa.and_(of_petition, Signature.state == SignatureState.VALIDATED)
    by_state = dict(
        db.session.execute(
            sa.select(Signature.state, sa.func.count())
            .where(of_petition)
            .group_by(Signature.state)
        ).all()
    )
    opt_ins = db.session.scalar(
        sa.select(sa.func.count()).where(validated, Signature.join_list.is_(True))
    )
    top_countries = db.session.execute(
        sa.select(Signature.country, sa.func.count().label("n"))
        .where(validated)
        .group_by(Signature.country)
        .order_by(sa.desc("n"), Signature.country)
        .limit(10)
    ).all()
    latest = db.session.scalars(
        sa.select(Signature)
        .where(of_petition)
        .order_by(Signature.created_at.desc())
        .limit(10)
    ).all()
    return PetitionStats(
        by_state=by_state,
        opt_ins=opt_ins,
        per_day=signatures_per(petition, "day", CHART_DAYS),
        per_hour=signatures_per(petition, "hour", CHART_HOURS),
        top_countries=[tuple(row) for row in top_countries],
        latest=list(latest),
    )


def signatures_per(petition: Petition, unit: str, buckets: int):
    """Signatures made in each of the last ``buckets`` days or hours (UTC)."""
    return per_bucket(
        Signature.created_at, unit, buckets, Signature.petition_id == petition.id
    )
