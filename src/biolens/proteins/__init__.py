"""Proteins: encoders, the embedding driver, tasks, supervised heads and language-model tools.

Laid out by concept (see ``docs/architecture.md``):

- :mod:`biolens.proteins.encoders` — the :class:`Encoder` contract, the registry
  (:func:`get_encoder`), pooling, and one subpackage per family (``esm2``, ``esmc``, ``prott5``,
  ``unirep``, ``onehot``, ``mlm``);
- :mod:`biolens.proteins.embed` — :func:`embed_sequences` (store, windows for long proteins);
- :mod:`biolens.proteins.tasks` — :func:`load_task`, the loaders for the public formats and the one
  table of task kinds (:data:`TASK_KINDS`);
- :mod:`biolens.proteins.supervised` — train (:func:`run_task`), evaluate (:func:`evaluate_run`),
  predict (:func:`load_predictor`);
- :mod:`biolens.proteins.lm` — residue scoring, variant effects, maps, masked-LM pretraining.

    >>> from biolens.proteins import load_task, run_task
    >>> result = run_task(load_task("gb1", "sample:gb1"), "onehot", "cnn", out_dir="runs/gb1")
"""

from .embed import EmbedStats as EmbedStats
from .embed import embed_sequences as embed_sequences
from .embed import open_store as open_store
from .encoders import ENCODERS as ENCODERS
from .encoders import POOLINGS as POOLINGS
from .encoders import DifferentiableEncoder as DifferentiableEncoder
from .encoders import Encoder as Encoder
from .encoders import get_encoder as get_encoder
from .encoders import list_encoders as list_encoders
from .encoders import pool as pool
from .lm import PretrainConfig as PretrainConfig
from .lm import PretrainResult as PretrainResult
from .lm import dms_scores as dms_scores
from .lm import language_model as language_model
from .lm import pretrain as pretrain
from .lm import protein_map as protein_map
from .lm import read_variants as read_variants
from .lm import residue_log_probs as residue_log_probs
from .lm import score_variants as score_variants
from .lm import token_map as token_map
from .supervised import HEADS as HEADS
from .supervised import HeadConfig as HeadConfig
from .supervised import LoRAConfig as LoRAConfig
from .supervised import Predictor as Predictor
from .supervised import RunConfig as RunConfig
from .supervised import SplitConfig as SplitConfig
from .supervised import TaskResult as TaskResult
from .supervised import evaluate_run as evaluate_run
from .supervised import load_predictor as load_predictor
from .supervised import run_task as run_task
from .supervised import transfer_annotations as transfer_annotations
from .tasks import TASK_KINDS as TASK_KINDS
from .tasks import TASK_NAMES as TASK_NAMES
from .tasks import Task as Task
from .tasks import TaskData as TaskData
from .tasks import combine as combine
from .tasks import load_task as load_task

__all__ = ["ENCODERS", "HEADS", "POOLINGS", "TASK_KINDS", "TASK_NAMES", "DifferentiableEncoder", "EmbedStats", "Encoder",
           "HeadConfig", "LoRAConfig", "Predictor", "PretrainConfig", "PretrainResult", "RunConfig", "SplitConfig", "Task",
           "TaskData", "TaskResult", "combine", "dms_scores", "embed_sequences", "evaluate_run",
           "get_encoder", "language_model", "list_encoders", "load_predictor", "load_task", "open_store",
           "pool", "pretrain", "protein_map", "read_variants", "residue_log_probs", "run_task",
           "score_variants", "token_map", "transfer_annotations"]
