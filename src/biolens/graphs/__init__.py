"""Drug–drug interaction (and any undirected) link prediction: OGB-layout loading, GraphSAGE
encoder with a link predictor, global negative sampling, neighbour sampling, Hits@K as OGB
defines it, and run folders for training, evaluation and prediction."""

from ._graph import EdgeSummary as EdgeSummary
from ._graph import Graph as Graph
from ._graph import LinkSplit as LinkSplit
from ._graph import canonical_edges as canonical_edges
from ._graph import degrees as degrees
from ._graph import directed_edges as directed_edges
from ._graph import pair_keys as pair_keys
from ._graph import remap_pairs as remap_pairs
from ._graph import subgraph as subgraph
from ._io import LinkDataset as LinkDataset
from ._io import holdout_split as holdout_split
from ._io import load_dataset as load_dataset
from ._io import load_ogb as load_ogb
from ._io import read_edge_list as read_edge_list
from ._io import read_split as read_split
from ._io import subsample as subsample
from ._model import GraphModelConfig as GraphModelConfig
from ._model import GraphSAGE as GraphSAGE
from ._model import LinkModel as LinkModel
from ._model import LinkPredictor as LinkPredictor
from ._model import SAGELayer as SAGELayer
from ._negatives import sample_negatives as sample_negatives
from ._predict import score_nodes as score_nodes
from ._predict import top_partners as top_partners
from ._presets import PRESET_NOTES as PRESET_NOTES
from ._presets import PRESETS as PRESETS
from ._presets import GraphRunConfig as GraphRunConfig
from ._presets import preset as preset
from ._propagate import Adjacency as Adjacency
from ._propagate import aggregate as aggregate
from ._propagate import graph_adjacency as graph_adjacency
from ._report import write_report as write_report
from ._robust import group_holdout_split as group_holdout_split
from ._run import GraphEvaluation as GraphEvaluation
from ._run import GraphResult as GraphResult
from ._run import TrainedRun as TrainedRun
from ._run import best_seed as best_seed
from ._run import evaluate as evaluate
from ._run import evaluate_run as evaluate_run
from ._run import load as load
from ._run import load_run as load_run
from ._run import train as train
from ._run import train_run as train_run
from ._sampling import NeighborSampler as NeighborSampler
from ._train import LinkSettings as LinkSettings
from ._train import encode_nodes as encode_nodes
from ._train import link_metrics as link_metrics
from ._train import score_pairs as score_pairs

__all__ = ["PRESETS", "PRESET_NOTES", "Adjacency", "EdgeSummary", "Graph", "GraphEvaluation", "GraphModelConfig", "GraphResult",
           "GraphRunConfig", "GraphSAGE", "LinkDataset", "LinkModel", "LinkPredictor", "LinkSettings", "LinkSplit",
           "NeighborSampler", "SAGELayer", "TrainedRun", "aggregate", "best_seed", "canonical_edges", "degrees",
           "directed_edges", "encode_nodes", "evaluate", "evaluate_run", "graph_adjacency", "group_holdout_split",
           "holdout_split", "link_metrics", "load", "load_dataset", "load_ogb", "load_run", "pair_keys", "preset",
           "read_edge_list", "read_split", "remap_pairs", "sample_negatives", "score_nodes", "score_pairs",
           "subgraph", "subsample", "top_partners", "train", "train_run", "write_report"]
