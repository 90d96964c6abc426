"""Matching the genes of two files that name them differently.

10x files carry Ensembl ids and symbols, one as ``var_names`` and the other in a ``var`` column;
other pipelines keep versioned ids (``ENSG00000141510.17``) or change letter case. `match_genes`
tries every identifier column of each file against every one of the other, ignoring Ensembl
version suffixes, and keeps the pair that matches most genes. Letter case is ignored only where
that joins one gene to one gene; names that stand for several genes on either side are left out
and reported as ambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from anndata import AnnData

#: Fewer shared genes than this and annotation is refused: cell types cannot be told apart.
MIN_SHARED_GENES = 200
_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*\d{6,})\.\d+$", re.IGNORECASE)
_MIN_UNIQUE_SHARE = 0.9  # a var column whose values are this unique may name genes


class TooFewSharedGenes(ValueError):
    """The reference and the query share too few genes to annotate one from the other."""


@dataclass(frozen=True)
class GeneMatch:
    """Which gene of the reference is which gene of the query.

    ``reference_index[i]`` and ``query_index[i]`` are the positions of the i-th shared gene in
    each file, in the reference's order; ``names`` are the reference's names for them.
    """

    reference_index: np.ndarray
    query_index: np.ndarray
    names: pd.Index
    reference_column: str
    query_column: str
    n_reference: int
    n_query: int
    case_matched: int = 0
    version_stripped: int = 0
    ambiguous: list[str] = field(default_factory=list)

    @property
    def n_shared(self) -> int:
        return len(self.names)

    def describe(self) -> str:
        """One sentence: how many genes matched, on which columns, and what was relaxed."""
        how = (f"by {self.reference_column}" if self.reference_column == self.query_column
               else f"the reference's {self.reference_column} to the data's {self.query_column}")
        notes = []
        if self.version_stripped:
            notes.append(f"{self.version_stripped} with Ensembl version suffixes ignored")
        if self.case_matched:
            notes.append(f"{self.case_matched} with letter case ignored")
        if self.ambiguous:
            notes.append(f"{len(self.ambiguous)} ambiguous names left out")
        extra = f" ({'; '.join(notes)})" if notes else ""
        return (f"{self.n_shared} shared genes, matched {how}{extra}; {self.n_reference - self.n_shared} "
                f"of the reference's {self.n_reference} and {self.n_query - self.n_shared} of the "
                f"data's {self.n_query} genes have no partner.")

    def to_record(self) -> dict:
        """What ``uns["fadvi"]`` keeps of the match."""
        return {"n_shared": self.n_shared, "reference_column": self.reference_column,
                "query_column": self.query_column, "case_matched": self.case_matched,
                "version_stripped": self.version_stripped, "ambiguous": list(self.ambiguous[:50])}


def identifier_columns(adata: AnnData) -> dict[str, pd.Index]:
    """``var_names`` and every text ``var`` column unique enough to name genes."""
    columns = {"var_names": pd.Index(adata.var_names.astype(str))}
    for name in adata.var.columns:
        values = adata.var[name]
        if not (pd.api.types.is_string_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)
                or values.dtype == object):
            continue
        text = values.astype(str)
        if text.nunique() >= _MIN_UNIQUE_SHARE * len(text):
            columns[f"var['{name}']"] = pd.Index(text)
    return columns


def _strip_version(name: str) -> str:
    found = _ENSEMBL_VERSION.match(name.strip())
    return found.group(1) if found else name.strip()


def _unique_positions(keys: pd.Index) -> tuple[dict[str, int], set[str]]:
    """Key -> position for keys that occur once; the keys that occur more than once."""
    counts = keys.value_counts()
    repeated = set(counts.index[counts > 1])
    return {key: i for i, key in enumerate(keys) if key not in repeated}, repeated


def _pair_match(reference: pd.Index, query: pd.Index) -> tuple[list[tuple[int, int]], int, int,
                                                                  list[str]]:
    """Matched ``(reference position, query position)`` pairs, case and version counts,
    ambiguous names."""
    ref_keys = pd.Index([_strip_version(v) for v in reference])
    query_keys = pd.Index([_strip_version(v) for v in query])
    ref_positions, ref_repeated = _unique_positions(ref_keys)
    query_positions, query_repeated = _unique_positions(query_keys)
    pairs = {ref_positions[k]: query_positions[k] for k in ref_positions if k in query_positions}
    ambiguous = sorted((ref_repeated & set(query_keys)) | (query_repeated & set(ref_keys)))
    stripped = sum(reference[r] != query[q] for r, q in pairs.items())
    # Letter case, only for genes still without a partner and only one to one.
    used = set(pairs.values())
    ref_folded = {}
    for key, pos in ref_positions.items():
        if pos not in pairs:
            ref_folded.setdefault(key.casefold(), []).append(pos)
    query_folded = {}
    for key, pos in query_positions.items():
        if pos not in used:
            query_folded.setdefault(key.casefold(), []).append(pos)
    case = 0
    for key, positions in ref_folded.items():
        partners = query_folded.get(key)
        if partners is None:
            continue
        if len(positions) == 1 and len(partners) == 1:
            pairs[positions[0]] = partners[0]
            case += 1
        else:
            ambiguous.append(reference[positions[0]])
    return sorted(pairs.items()), case, stripped, ambiguous


def match_genes(reference: AnnData, query: AnnData, *,
                min_shared: int = MIN_SHARED_GENES) -> GeneMatch:
    """Match the reference's genes to the query's (see the module's docstring).

    Raises
    ------
    TooFewSharedGenes
        When fewer than ``min_shared`` genes match; the message gives the count and the fix.
    """
    best = None
    for ref_name, ref_ids in identifier_columns(reference).items():
        for query_name, query_ids in identifier_columns(query).items():
            pairs, case, stripped, ambiguous = _pair_match(ref_ids, query_ids)
            # Most genes; on a tie, the pair that needed letter case least.
            if best is None or (len(pairs), -case) > (len(best[2]), -best[3]):
                best = (ref_name, query_name, pairs, case, stripped, ambiguous)
    ref_name, query_name, pairs, case, stripped, ambiguous = best
    if len(pairs) < min_shared:
        raise TooFewSharedGenes(
            f"Only {len(pairs)} genes match between the reference ({reference.n_vars} genes) and "
            f"the data ({query.n_vars} genes); at least {min_shared} are needed to tell cell "
            "types apart. Check that both files name genes the same way (gene symbols, or Ensembl "
            "ids): a var column holding the other kind is used automatically, so add one (e.g. "
            "var['gene_symbols']) to the file that lacks it, and check both are from the same "
            "species.")
    ref_index = np.array([r for r, _ in pairs], dtype=int)
    query_index = np.array([q for _, q in pairs], dtype=int)
    names = pd.Index(reference.var_names[ref_index].astype(str))
    if names.has_duplicates:  # var_names repeat; the matched column does not
        names = identifier_columns(reference)[ref_name][ref_index]
    return GeneMatch(ref_index, query_index, names,
                     ref_name, query_name, reference.n_vars, query.n_vars, case_matched=case,
                     version_stripped=int(stripped), ambiguous=sorted(set(ambiguous)))
