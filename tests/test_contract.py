"""The public answer contract (shared/CONTRACT.md) for every family: required names,
exact numbers only, determinism; property-based over seeds with hypothesis."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import SPACES, assert_exact

from generator.family import load_families
from generator.variants import make_problem

# family -> (required params, required answers), as CONTRACT.md's table lists them.
REQUIRED = {
    "resblock_params": ({"blocks"}, {"fewer"}),
    "sgd_step": ({"lr", "weight_decay", "w", "grad"}, {"w_plain", "w_decay"}),
    "conv_architecture": ({"input", "target", "kernel_sizes"}, {"layers", "shapes", "total_params"}),
    "two_layer_backprop": ({"X", "t", "W1", "b1", "w2", "b2"},
                           {"y", "loss", "grad_W1", "grad_b1", "grad_w2", "grad_b2"}),
    "conv_output_size": ({"input_size", "kernel_size", "padding", "stride", "dilation"}, {"output_size"}),
    "conv_params": ({"in_channels", "out_channels", "kernel_size", "bias"}, {"params"}),
    "conv_by_hand": ({"X", "K", "stride", "padding"}, {"Y"}),
    "receptive_field": ({"layers"}, {"receptive_field"}),
    "conv_stack_compare": ({"channels", "kernel_size", "depth"}, {"receptive_field", "params_stack", "params_single"}),
    "conv_macs": ({"in_channels", "out_channels", "kernel_size", "height", "width"},
                  {"macs_standard", "macs_separable", "params_standard", "params_separable"}),
    "pool_backprop": ({"X", "mode", "kernel_size", "stride", "grad_output"}, {"grad_input"}),
    "gd_convergence": ({"A"}, {"eigenvalues", "lr_max"}),
    "focal_loss": ({"gamma", "p_t"}, {"multipliers"}),
    "yolo_output": ({"S", "B", "C"}, {"per_cell", "output_size"}),
    "inception_module": ({"in_channels", "branch_widths"}, {"out_channels"}),
    "resnet_params": ({"input_channels", "stem_channels", "stem_kernel", "stages", "bottleneck", "expansion",
                       "num_classes"}, {"total_params"}),
    "batchnorm_shapes": ({"input_shape", "layout"}, {"mean_shape", "var_shape"}),
    "conv_as_matrix": ({"weight", "input_length", "padding"}, {"A", "B"}),
    # the second half of a course
    "transformer_params": ({"d_model", "nhead", "dim_feedforward", "num_layers", "bias"},
                           {"params_attention", "params_ffn", "params_norm", "params_layer", "total_params"}),
    "rnn_params": ({"cell", "input_size", "hidden_size", "num_layers", "bidirectional", "bias"}, {"params"}),
    "attention_by_hand": ({"Q", "K", "V", "causal"}, {"scores", "weights", "output"}),
    "attention_cost": ({"seq_len", "d_model", "num_heads"},
                       {"macs_projections", "macs_scores", "macs_weighted_sum", "attention_entries"}),
    "softmax_cross_entropy": ({"logits", "targets"}, {"probs", "loss", "grad_logits"}),
    "batchnorm_forward": ({"X", "gamma", "beta", "eps", "momentum", "running_mean", "running_var"},
                          {"mean", "var", "Y", "running_mean_new", "running_var_new"}),
    "rnn_forward": ({"X", "W_xh", "W_hh", "b", "h0", "nonlinearity"},
                    {"h", "loss", "grad_W_hh", "grad_W_xh", "grad_b"}),
    "computational_graph": ({"inputs", "nodes"}, {"value", "grads", "node_values"}),
    "adam_step": ({"lr", "beta1", "beta2", "eps", "weight_decay", "w", "grads"},
                  {"w_adam", "w_adamw", "m_hat", "v_hat"}),
    "lr_schedule": ({"schedule", "base_lr", "steps"}, {"lr"}),
    "weight_init": ({"scheme", "layer", "nonlinearity", "mode"}, {"fan_in", "fan_out", "gain", "variance"}),
    "transposed_conv_output_size": ({"input_size", "kernel_size", "stride", "padding", "output_padding", "dilation"},
                                    {"output_size"}),
}


def test_every_contract_family_is_registered():
    assert set(REQUIRED) <= set(load_families())


def test_every_family_option_has_a_strategy():
    """The property tests draw every option of every built-in family (tests/strategies.py)."""
    builtin = {i: f for i, f in load_families().items() if type(f).__module__.startswith("generator.families.")}
    assert set(SPACES) == set(builtin)
    for family_id, family in builtin.items():
        assert set(SPACES[family_id]) == set(family.options), family_id


@pytest.mark.parametrize("family_id", sorted(REQUIRED))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_contract_holds_for_any_seed(family_id, seed):
    obj = make_problem(family_id, seed).contract()
    params, answers = REQUIRED[family_id]
    assert obj["family"] == family_id and obj["seed"] == seed
    assert params <= set(obj["params"]), params - set(obj["params"])
    assert answers <= set(obj["answers"]) or family_id == "resblock_params"
    if family_id == "resblock_params":  # params_<label> for every design
        assert {f"params_{label}" for label in obj["params"]["blocks"]} | {"fewer"} <= set(obj["answers"])
    text = json.dumps(obj)
    assert json.loads(text) == obj
    assert_exact(obj["params"], "params")
    assert_exact(obj["answers"], "answers")
    assert make_problem(family_id, seed).contract() == obj  # same seed, same object
    for name, slips in obj["slips"].items():
        values = [s["value"] for s in slips]
        assert obj["answers"][name] not in values and len(set(map(json.dumps, values))) == len(values)
