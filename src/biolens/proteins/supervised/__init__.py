"""Supervised protein tasks: heads, the task model, splits, training runs, evaluation, reports and
the predictor."""

from ..encoders._finetune import LoRAConfig as LoRAConfig
from ._config import ENCODER_LR_RATIO as ENCODER_LR_RATIO
from ._config import RunConfig as RunConfig
from ._config import load_run_config as load_run_config
from ._evaluate import TEST_PREDICTIONS as TEST_PREDICTIONS
from ._evaluate import TestPredictions as TestPredictions
from ._evaluate import baselines as baselines
from ._evaluate import metrics_with_intervals as metrics_with_intervals
from ._evaluate import paired_delta as paired_delta
from ._evaluate import read_test_predictions as read_test_predictions
from ._evaluate import task_metrics as task_metrics
from ._heads import HEADS as HEADS
from ._heads import AttentionHead as AttentionHead
from ._heads import CNNHead as CNNHead
from ._heads import HeadConfig as HeadConfig
from ._heads import LinearHead as LinearHead
from ._heads import MLPHead as MLPHead
from ._heads import PerResidueHead as PerResidueHead
from ._heads import build_head as build_head
from ._knn import METRICS as METRICS
from ._knn import KNNHead as KNNHead
from ._knn import knn_targets as knn_targets
from ._knn import nearest_neighbours as nearest_neighbours
from ._knn import transfer_annotations as transfer_annotations
from ._model import Features as Features
from ._model import Predictor as Predictor
from ._model import build_model as build_model
from ._model import check_task_data as check_task_data
from ._model import load_predictor as load_predictor
from ._model import make_batches as make_batches
from ._model import make_features as make_features
from ._model import predict as predict
from ._predictor import ResidueBatches as ResidueBatches
from ._predictor import TaskModel as TaskModel
from ._predictor import compact_residues as compact_residues
from ._predictor import make_loss as make_loss
from ._predictor import output_transform as output_transform
from ._predictor import pooled_batches as pooled_batches
from ._predictor import predict_batches as predict_batches
from ._report import prediction_table as prediction_table
from ._report import write_predictions as write_predictions
from ._report import write_report as write_report
from ._run import TaskResult as TaskResult
from ._run import data_identity as data_identity
from ._run import evaluate_run as evaluate_run
from ._run import load_result as load_result
from ._run import run_task as run_task
from ._run import train_on as train_on
from ._splits import Split as Split
from ._splits import SplitConfig as SplitConfig
from ._splits import make_split as make_split
from ._splits import mmseqs_clusters as mmseqs_clusters
from ._splits import read_split as read_split

__all__ = [
    "ENCODER_LR_RATIO",
    "HEADS",
    "METRICS",
    "TEST_PREDICTIONS",
    "AttentionHead",
    "CNNHead",
    "Features",
    "HeadConfig",
    "KNNHead",
    "LinearHead",
    "LoRAConfig",
    "MLPHead",
    "PerResidueHead",
    "Predictor",
    "ResidueBatches",
    "RunConfig",
    "Split",
    "SplitConfig",
    "TaskModel",
    "TaskResult",
    "TestPredictions",
    "baselines",
    "build_head",
    "build_model",
    "check_task_data",
    "compact_residues",
    "data_identity",
    "evaluate_run",
    "knn_targets",
    "load_predictor",
    "load_result",
    "load_run_config",
    "make_batches",
    "make_features",
    "make_loss",
    "make_split",
    "metrics_with_intervals",
    "mmseqs_clusters",
    "nearest_neighbours",
    "output_transform",
    "paired_delta",
    "pooled_batches",
    "predict",
    "predict_batches",
    "prediction_table",
    "read_split",
    "read_test_predictions",
    "run_task",
    "task_metrics",
    "train_on",
    "transfer_annotations",
    "write_predictions",
    "write_report",
]  # fmt: skip
