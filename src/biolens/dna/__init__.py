"""DNA: one-hot encoding, dinucleotide shuffles, TF-binding data, models and training.

See :mod:`biolens.interpret` for in-silico mutagenesis and input gradients of these models.
"""

from ._benchmark import benchmark as benchmark
from ._benchmark import factor_pairs as factor_pairs
from ._benchmark import markdown_table as markdown_table
from ._benchmark import score_file as score_file
from ._data import TFData as TFData
from ._data import concat_data as concat_data
from ._data import read_tf_data as read_tf_data
from ._data import tf_name_from_path as tf_name_from_path
from ._encoding import N_VALUE as N_VALUE
from ._encoding import check_equal_lengths as check_equal_lengths
from ._encoding import decode_one_hot as decode_one_hot
from ._encoding import one_hot as one_hot
from ._encoding import reverse_complement as reverse_complement
from ._encoding import reverse_complement_one_hot as reverse_complement_one_hot
from ._evaluate import DnaEvaluation as DnaEvaluation
from ._evaluate import check_length as check_length
from ._evaluate import evaluate as evaluate
from ._evaluate import evaluate_data as evaluate_data
from ._evaluate import prediction_columns as prediction_columns
from ._evaluate import write_evaluation_report as write_evaluation_report
from ._models import MODELS as MODELS
from ._models import ModelConfig as ModelConfig
from ._models import SeedEnsemble as SeedEnsemble
from ._models import TFBindingModel as TFBindingModel
from ._models import model_config as model_config
from ._motif_panel import MOTIF_PANEL as MOTIF_PANEL
from ._motif_panel import motif_check_arrays as motif_check_arrays
from ._motif_panel import motif_check_model as motif_check_model
from ._motif_panel import motif_check_run as motif_check_run
from ._motif_panel import motif_panel_check as motif_panel_check
from ._prepare import LabelledArrays as LabelledArrays
from ._prepare import label_arrays as label_arrays
from ._prepare import pick_tasks as pick_tasks
from ._prepare import prepare_training as prepare_training
from ._prepare import with_shuffled_negatives as with_shuffled_negatives
from ._presets import DEFAULT_PRESET as DEFAULT_PRESET
from ._presets import PRESETS as PRESETS
from ._presets import DnaRunConfig as DnaRunConfig
from ._presets import preset as preset
from ._run import DnaResult as DnaResult
from ._run import TrainResult as TrainResult
from ._run import train as train
from ._shuffle import dinucleotide_counts as dinucleotide_counts
from ._shuffle import dinucleotide_shuffle as dinucleotide_shuffle
from ._shuffle import shuffle_many as shuffle_many
from ._train import TrainedModel as TrainedModel
from ._train import ensemble_of as ensemble_of
from ._train import evaluate_arrays as evaluate_arrays
from ._train import forward as forward
from ._train import init_model as init_model
from ._train import load_model as load_model
from ._train import make_predict as make_predict
from ._train import metric_intervals as metric_intervals
from ._train import predict_proba as predict_proba
from ._train import save_model as save_model
from ._train import train_model as train_model

__all__ = ["DEFAULT_PRESET", "MODELS", "MOTIF_PANEL", "N_VALUE", "PRESETS", "DnaEvaluation", "DnaResult",
           "DnaRunConfig", "LabelledArrays", "ModelConfig", "SeedEnsemble", "TFBindingModel", "TFData", "TrainResult",
           "TrainedModel", "benchmark", "check_equal_lengths", "check_length", "concat_data", "decode_one_hot",
           "dinucleotide_counts", "dinucleotide_shuffle", "ensemble_of", "evaluate", "evaluate_arrays",
           "evaluate_data", "factor_pairs", "forward", "init_model", "label_arrays", "load_model", "make_predict",
           "markdown_table", "metric_intervals", "model_config", "motif_check_arrays", "motif_check_model",
           "motif_check_run", "motif_panel_check", "one_hot", "pick_tasks", "predict_proba", "prediction_columns",
           "prepare_training", "preset", "read_tf_data", "reverse_complement", "reverse_complement_one_hot",
           "save_model", "score_file", "shuffle_many", "tf_name_from_path", "train", "train_model",
           "with_shuffled_negatives", "write_evaluation_report"]
