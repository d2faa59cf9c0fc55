"""`rl-agent check`: what a dataset is and whether it can train, before any training starts.

The report says the type and row count, the columns and how they were mapped, the rows left out (empty,
duplicate, chosen == rejected) with their locations, the prompts shared between train and held-out, the
token-length distribution against a tokenizer and max_length (share that would be truncated), and size
advice for the algorithm. `errors` lists what would make training meaningless (too few rows, wrong
type, held-out prompts seen in training); `setup` refuses data with errors. Unreadable files raise
DataError naming the file and row instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from rl_agent.kit.dataio import kinds as K
from rl_agent.kit.dataio.columns import parse_columns, resolve_columns
from rl_agent.kit.dataio.normalise import Normalised, normalise, rows_for_shape
from rl_agent.kit.dataio.sources import DataError, load_source
from rl_agent.kit.dataio.split import seeded_split, shared_prompts
from rl_agent.kit.dataio.validation import carve_validation

MIN_TRAIN_ROWS = 8
MIN_HELDOUT_ROWS = 3
SHOW = 5  # problems listed by location before "... and N more"


@dataclass
class SideReport:
    """One side (train or held-out) of the data as read."""

    source: str
    kind: str
    rows_read: int
    rows_usable: int
    columns: list[str]
    mapping: list[str]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class TokenStats:
    tokenizer: str
    max_length: int
    min: int
    median: int
    p95: int
    max: int
    truncated_share: float


@dataclass
class CheckReport:
    algorithm: str
    train: SideReport
    heldout: SideReport | None
    heldout_from: str
    train_rows: int
    heldout_rows: int
    shared_prompts: list[str] = field(default_factory=list)
    tokens: TokenStats | None = None
    advice: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    validation_rows: int = 0  # prompts the run takes from the training rows for choosing (dataio/validation.py)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        out = []
        for label, side in (("data", self.train), ("held-out", self.heldout)):
            if side is None:
                continue
            out.append(f"{label}: {side.source}")
            out.append(f"  type: {side.kind}")
            out.append(f"  rows: {side.rows_read} read, {side.rows_usable} usable")
            out.append(f"  columns: {', '.join(side.columns)}")
            out.extend(f"  mapped: {m}" for m in side.mapping)
            if side.problems:
                out.append(f"  left out: {len(side.problems)} rows")
                out.extend(f"    {p}" for p in side.problems[:SHOW])
                if len(side.problems) > SHOW:
                    out.append(f"    ... and {len(side.problems) - SHOW} more")
            out.extend(f"  note: {n}" for n in side.notes)
        out.append(
            f"split for {self.algorithm}: {self.train_rows} training rows, {self.heldout_rows} held-out rows "
            f"({self.heldout_from})"
        )
        if self.validation_rows:
            out.append(
                f"validation: the run takes {self.validation_rows} prompts of the training rows (seeded, never "
                "trained on) to choose the checkpoint and settings on; the held-out rows are the test"
            )
        if self.shared_prompts:
            more = f" (and {len(self.shared_prompts) - 1} more)" if len(self.shared_prompts) > 1 else ""
            out.append(
                f"prompts shared by train and held-out: {len(self.shared_prompts)}, e.g. "
                f"{self.shared_prompts[0]!r}{more}"
            )
        else:
            out.append("prompts shared by train and held-out: none")
        t = self.tokens
        if t:
            out.append(
                f"token lengths ({t.tokenizer}): min {t.min}, median {t.median}, p95 {t.p95}, max {t.max}; "
                f"{t.truncated_share:.0%} longer than max_length {t.max_length} (would be truncated)"
            )
        else:
            out.append("token lengths: not measured (pass --model NAME or --model embedded)")
        out.extend(f"advice: {a}" for a in self.advice)
        out.extend(f"error: {e}" for e in self.errors)
        out.append("verdict: " + ("ready to train" if self.ok else "NOT trainable as is"))
        return out


def read_side(source: str | Path, columns: str | None, split: str) -> tuple[Normalised, SideReport]:
    loaded = load_source(source, split)
    mapping = resolve_columns(loaded.columns, parse_columns(columns), loaded.name)
    norm = normalise(loaded, mapping)
    side = SideReport(
        loaded.name,
        norm.kind.describe(),
        len(loaded.rows),
        len(norm.rows),
        loaded.columns,
        mapping.describe(),
        [str(p) for p in norm.problems],
        list(norm.notes),
    )
    return norm, side


def run_check(
    source: str | Path,
    *,
    columns: str | None = None,
    split: str = "train",
    heldout: str | Path | None = None,
    heldout_columns: str | None = None,
    heldout_share: float = 0.1,
    shape: str = K.PAIRS,
    heldout_shape: str | None = None,
    reader: str | None = None,
    tokenizer=None,
    tokenizer_name: str = "",
    max_length: int | None = None,
    validation: bool = False,
    seed: int = 0,
) -> tuple[CheckReport, list[dict], list[dict]]:
    """The report plus the training rows in the row shape the track trains on (`shape`, its train_kind) and
    the held-out rows in the shape it evaluates (`heldout_shape`, default the same). `reader` names the track
    in the report (default: the shape); `validation`: the track carves a validation split from the training
    rows, whose size the report gives."""
    reader = reader or shape
    held_shape = heldout_shape or shape
    norm, side = read_side(source, columns, split)
    rows = rows_for_shape(norm, shape, reader)
    held_side = None
    if heldout is not None:
        held_norm, held_side = read_side(heldout, heldout_columns if heldout_columns is not None else columns, split)
        if held_norm.kind.name != norm.kind.name and shape == K.PAIRS:
            raise DataError(
                f"{held_side.source}: held-out data is {held_norm.kind.name}, training data is {norm.kind.name}"
            )
        train, held = rows, _heldout_rows(held_norm, held_shape, reader, held_side.source)
        held_from = f"--heldout {held_side.source}"
    else:  # split the prompts first, then shape each side (a prompt never lands on both)
        train_norm, held_norm = seeded_split(norm.rows, heldout_share, seed=seed, min_heldout=MIN_HELDOUT_ROWS)
        train = rows_for_shape(Normalised(norm.kind, train_norm, []), shape, reader)
        held = _heldout_rows(Normalised(norm.kind, held_norm, []), held_shape, reader, side.source)
        held_from = f"seeded split, share {heldout_share:g}, seed {seed}, no prompt on both sides"
    report = CheckReport(reader, side, held_side, held_from, len(train), len(held))
    if validation:  # the track chooses its checkpoint on prompts carved from the training side
        report.validation_rows = len(carve_validation(train, seed=seed).validation)
    report.shared_prompts = shared_prompts(train, held)
    if tokenizer is not None:
        report.tokens = token_stats(train + held, tokenizer, tokenizer_name, max_length or 512)
    report.advice, report.errors = advise(report, norm, shape, train, held)
    return report, train, held


def _heldout_rows(norm: Normalised, shape: str, reader: str, source: str) -> list[dict]:
    try:
        return rows_for_shape(norm, shape, reader)
    except DataError as e:
        raise DataError(
            f"{source}: {reader}'s before/after is measured on held-out {shape} ({e}); give held-out "
            "data of that type with --heldout"
        ) from None


def advise(
    report: CheckReport, norm: Normalised, shape: str, train: list[dict], held: list[dict]
) -> tuple[list[str], list[str]]:
    """Size and shape advice for the row shape the track trains on; errors for data that would train on nothing."""
    advice, errors = [], []
    alg, n = report.algorithm, len(train)
    unit = K.SHAPE_UNITS.get(shape, "rows")
    if n < MIN_TRAIN_ROWS:
        errors.append(
            f"{n} usable training {unit}: {alg} needs at least {MIN_TRAIN_ROWS}; this would train on (almost) nothing"
        )
    elif n < 100:
        advice.append(
            f"{n} training {unit} is enough for a demo; expect the model to memorise them. A few hundred "
            f"to a few thousand varied {unit} generalise better"
        )
    elif shape == K.PAIRS and n > 50_000:
        advice.append(f"{n} pairs: one epoch is long on a small GPU; --steps bounds the run")
    if len(held) < MIN_HELDOUT_ROWS:
        errors.append(f"{len(held)} held-out rows: the before/after needs at least {MIN_HELDOUT_ROWS}")
    elif len(held) < 20:
        advice.append(f"{len(held)} held-out rows: the before/after figures will be noisy (20+ is better)")
    if report.shared_prompts:
        errors.append(
            f"{len(report.shared_prompts)} held-out prompts also appear in training: the before/after "
            "would measure memorisation"
        )
    if shape == K.UNPAIRED_ROWS:
        ups = sum(1 for r in train if r.get("label"))
        downs = len(train) - ups
        if not ups or not downs:
            errors.append(f"{alg} needs both desirable and undesirable rows; got {ups} up, {downs} down")
        elif max(ups, downs) / min(ups, downs) > 4 / 3:
            advice.append(
                f"{ups} desirable vs {downs} undesirable rows: TRL suggests weighting them "
                "(desirable_weight / undesirable_weight) so their ratio stays between 1:1 and 4:3"
            )
    if shape == K.PROMPTS and not any(r.get("reference") for r in train):
        advice.append("no reference answers: use a reward that needs none (a style judge or Claude)")
    left_out = len(norm.problems)
    if left_out:
        advice.append(f"{left_out} rows were left out (empty, duplicate or chosen == rejected); see the list above")
    if report.tokens and report.tokens.truncated_share > 0.05:
        advice.append(
            f"{report.tokens.truncated_share:.0%} of rows exceed max_length {report.tokens.max_length}: "
            "raise max_length (memory allowing) or shorten the answers"
        )
    return advice, errors


def _row_texts(row: dict) -> tuple[str, list[str]]:
    answers = [row[k] for k in ("chosen", "rejected", "completion", "reference") if isinstance(row.get(k), str)]
    return row["prompt"], answers or [""]


def token_stats(rows: list[dict], tokenizer, name: str, max_length: int) -> TokenStats:
    """Tokens per row (the chat-templated prompt plus its longest answer), as the trainer would see them."""
    lengths = []
    has_template = bool(getattr(tokenizer, "chat_template", None))
    for row in rows:
        prompt, answers = _row_texts(row)
        if has_template:
            p = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        else:
            p = prompt
        p_len = len(tokenizer(p, add_special_tokens=False)["input_ids"])
        a_len = max(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
        lengths.append(p_len + a_len + 1)
    lengths.sort()
    n = len(lengths)
    return TokenStats(
        name,
        max_length,
        lengths[0],
        lengths[n // 2],
        lengths[min(n - 1, int(0.95 * n))],
        lengths[-1],
        round(sum(1 for x in lengths if x > max_length) / n, 4),
    )


def load_tokenizer(model: str):
    """A tokenizer for the length check: `embedded` (the model shipped in the package), a folder, or a hub id."""
    if model == "embedded":
        from rl_agent.kit.models.tiny import embedded_model_dir

        model = str(embedded_model_dir())
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model)
    except Exception as e:  # offline hub, bad folder: many types
        raise DataError(f"--model {model}: cannot load its tokenizer ({' '.join(str(e).split())[:200]})") from None
