"""Shadow challenger agreement: how the challenger's decisions compare with the champion's.

Capture records written while a shadow challenger is configured carry its result
(contract.capture_format ``challenger``: model version, probability, decision; null when it
failed on that request). The drift job tallies every such record it reads and adds to its
summary:

* ``agreement_rate``: the share of challenger-scored applications decided the same way;
* ``champion_decline_rate`` / ``challenger_decline_rate`` over those applications;
* ``disagreeing_client_id_hashes``: the hashed ids where they differ (sorted; at most
  MAX_LISTED, ``disagreements`` counts them all);
* ``challenger_failed``: records where the challenger gave no result.

The summary's ``shadow`` is null when no record of the window carries a challenger field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Hashed ids listed in the summary (all disagreements are counted).
MAX_LISTED = 100


@dataclass
class ShadowTally:
    records: int = 0
    scored: int = 0
    agreements: int = 0
    champion_declines: int = 0
    challenger_declines: int = 0
    disagreeing: set[str] = field(default_factory=set)
    disagreements: int = 0
    versions: Counter[str] = field(default_factory=Counter)

    def add(self, records: Iterable[Mapping[str, Any]]) -> ShadowTally:
        """Count the records that carry a challenger field; returns self."""
        for record in records:
            if "challenger" not in record:
                continue
            self.records += 1
            result = record["challenger"]
            if not isinstance(result, Mapping):
                continue
            self.scored += 1
            champion_declines = record["decision"] == "decline"
            challenger_declines = result.get("decision") == "decline"
            self.champion_declines += champion_declines
            self.challenger_declines += challenger_declines
            self.versions[f"{record['model_version']} vs {result.get('model_version')}"] += 1
            if champion_declines == challenger_declines:
                self.agreements += 1
            else:
                self.disagreements += 1
                if len(self.disagreeing) < MAX_LISTED:
                    self.disagreeing.add(str(record["client_id_hash"]))
        return self

    def merge(self, other: ShadowTally) -> None:
        self.records += other.records
        self.scored += other.scored
        self.agreements += other.agreements
        self.champion_declines += other.champion_declines
        self.challenger_declines += other.challenger_declines
        self.disagreements += other.disagreements
        self.disagreeing |= set(sorted(other.disagreeing)[: MAX_LISTED - len(self.disagreeing)])
        self.versions.update(other.versions)

    def summary(self) -> dict[str, Any] | None:
        """The summary's ``shadow`` section, or None without any challenger record."""
        if self.records == 0:
            return None

        def rate(count: int) -> float | None:
            return count / self.scored if self.scored else None

        return {
            "records_with_challenger": self.records,
            "scored": self.scored,
            "challenger_failed": self.records - self.scored,
            "agreement_rate": rate(self.agreements),
            "champion_decline_rate": rate(self.champion_declines),
            "challenger_decline_rate": rate(self.challenger_declines),
            "disagreements": self.disagreements,
            "disagreeing_client_id_hashes": sorted(self.disagreeing),
            "versions": dict(sorted(self.versions.items())),
        }
