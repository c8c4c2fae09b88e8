"""The sequential recommender's optional padding mask and training settings (no stack)."""

from __future__ import annotations

import numpy as np
import torch

from worker.recommendation import training
from worker.recommendation.index import CatalogIndex
from worker.recommendation.sequential import (
    SequenceScorer,
    SequentialConfig,
    SequentialRecommender,
)

ITEMS = 30
TEXT_DIM = 8


def _vectors(seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(ITEMS, TEXT_DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _model(mask_padding: bool) -> SequentialRecommender:
    torch.manual_seed(0)
    config = SequentialConfig(text_dim=TEXT_DIM, dim=16, layers=2, heads=2, max_len=12,
                              mask_padding=mask_padding)
    model = SequentialRecommender(config, _vectors())
    with torch.no_grad():  # offsets start at zero; give them something to carry
        model.offset.normal_(0, 0.1)
    return model.eval()


def test_with_the_padding_mask_a_history_scores_the_same_however_it_is_padded():
    scorer = SequenceScorer(_model(True), np.arange(ITEMS), _vectors())
    short, long = [3, 7, 1], [5, 2, 9, 11, 4, 8, 6, 0, 12]
    alone = scorer.scores_for_many([short])[0]
    beside_a_longer_one = scorer.scores_for_many([short, long])[0]  # padded with 6 more
    one_at_a_time = scorer.scores_for_positions(short)  # what a recommendation job runs
    np.testing.assert_allclose(beside_a_longer_one, alone, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(one_at_a_time, alone, rtol=1e-5, atol=1e-5)
    assert np.isfinite(beside_a_longer_one).all()


def test_without_it_padding_changes_the_scores_as_before():
    scorer = SequenceScorer(_model(False), np.arange(ITEMS), _vectors())
    short, long = [3, 7, 1], [5, 2, 9, 11, 4, 8, 6, 0, 12]
    alone = scorer.scores_for_many([short])[0]
    assert not np.allclose(scorer.scores_for_many([short, long])[0], alone, atol=1e-4)


def test_the_masked_loss_ignores_columns_that_are_all_padding():
    model = _model(True)
    block = torch.zeros((2, 13), dtype=torch.int64)
    block[0, -4:] = torch.tensor([4, 8, 2, 9])
    block[1, -3:] = torch.tensor([3, 5, 7])
    with torch.no_grad():
        full = model.loss(block)
        trimmed = model.loss(block[:, -5:])  # what trimming keeps: one padded column
    torch.testing.assert_close(full, trimmed)


def _index() -> CatalogIndex:
    import uuid

    ids = [str(n) for n in range(ITEMS)]
    return CatalogIndex(catalog_id=uuid.uuid4(), version=1, ids=ids,
                        position={i: n for n, i in enumerate(ids)}, vectors=_vectors(),
                        titles=ids, categories=[""] * ITEMS, prices=np.full(ITEMS, np.nan),
                        in_stock=np.ones(ITEMS, dtype=bool), popularity=np.zeros(ITEMS))


def test_fit_takes_its_settings_and_returns_a_cpu_model():
    rng = np.random.default_rng(1)
    sequences = [[int(x) for x in rng.integers(0, ITEMS - 5, size=rng.integers(3, 9))]
                 for _ in range(40)]
    data = training.split(sequences)
    config = SequentialConfig(text_dim=TEXT_DIM, dim=16, layers=1, max_len=8,
                              mask_padding=True, feedforward=4)
    settings = training.Settings(learning_rate=1e-3, offset_decay=0.5, batch=16,
                                 label_smoothing=0.1, patience=2, validation_shoppers=20,
                                 blend_shoppers=20, bucket=True)
    fitted = training.fit(data.training, data.validation, _index(), config, budget_s=30,
                          max_epochs=3, seed=0, settings=settings)
    assert fitted.epochs <= 3 and fitted.steps == fitted.epochs * 3  # 40 shoppers / 16
    assert fitted.model.offset.device.type == "cpu"
    # Items no training sequence holds keep a zero offset (scored from their text).
    assert torch.count_nonzero(fitted.model.offset[ITEMS - 5:]) == 0
    choice = training.choose_blend(fitted.model, _index(), data.training, data.validation, 0,
                                   shoppers=settings.blend_shoppers)
    assert choice.shoppers == 20
    assert training.DEFAULT_SETTINGS == training.Settings()  # the job's defaults
    assert training.DEFAULT_SETTINGS.learning_rate == training.LEARNING_RATE


def test_bucketed_batches_hold_every_sequence_once_grouped_by_length():
    from worker.recommendation.sequential import batches

    sequences = [list(range(1, 2 + n % 9)) for n in range(50)]
    out = batches(sequences, 12, 10, np.random.default_rng(0), bucket=True)
    lengths = [sorted(int(n) for n in (block > 0).sum(dim=1)) for block in out]
    assert sorted(n for batch in lengths for n in batch) == sorted(len(s) for s in sequences)
    assert all(batch[-1] - batch[0] <= 2 for batch in lengths)  # 50 across 9 lengths


def test_a_version_stored_before_the_mask_loads_without_it_and_new_ones_have_it():
    legacy = {"text_dim": TEXT_DIM, "dim": 16, "layers": 2, "heads": 2, "max_len": 12,
              "dropout": 0.3}  # the config a model stored before these fields holds
    assert SequentialConfig.stored(legacy).mask_padding is False
    assert SequentialConfig.stored(legacy).feedforward == 2
    fresh = SequentialConfig(text_dim=TEXT_DIM)
    assert fresh.mask_padding is True
    assert SequentialConfig.stored(fresh.as_dict()) == fresh


def test_refit_learns_the_held_out_items_too_for_the_chosen_epochs_within_its_budget():
    rng = np.random.default_rng(2)
    sequences = [[int(x) for x in rng.integers(0, ITEMS - 5, size=rng.integers(3, 9))]
                 for _ in range(40)]
    # The last item of each shopper only ever appears as the held-out one: item ITEMS - 3.
    sequences = [s + [ITEMS - 3] for s in sequences]
    data = training.split(sequences)
    config = SequentialConfig(text_dim=TEXT_DIM, dim=16, layers=1, max_len=8)
    fitted = training.fit(data.training, data.validation, _index(), config, budget_s=30,
                          max_epochs=3, seed=0, patience=3)
    assert torch.count_nonzero(fitted.model.offset[ITEMS - 3]) == 0  # never trained on
    again = training.refit(sequences, _index(), config, fitted, budget_s=60, seed=0)
    assert again is not None and again.epochs == fitted.best_epoch
    assert torch.count_nonzero(again.model.offset[ITEMS - 3]) > 0  # now it was
    # At the first fit's pace the epochs cannot fit: the validated model is kept.
    assert training.refit(sequences, _index(), config, fitted,
                          budget_s=fitted.seconds / fitted.epochs / 10, seed=0) is None
