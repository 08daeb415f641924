#include "tribev2/model/config.hpp"

namespace tribev2::model {

std::string to_string(LayerAggregation v) { return v == LayerAggregation::Cat ? "cat" : "mean"; }
std::string to_string(ExtractorAggregation v) {
  switch (v) {
    case ExtractorAggregation::Cat: return "cat";
    case ExtractorAggregation::Sum: return "sum";
    case ExtractorAggregation::Stack: return "stack";
  }
  return "?";
}
std::string to_string(Norm v) {
  switch (v) {
    case Norm::None: return "none";
    case Norm::Layer: return "layer";
    case Norm::Unit: return "unit";
  }
  return "?";
}
std::string to_string(Activation v) {
  switch (v) {
    case Activation::Identity: return "identity";
    case Activation::ReLU: return "relu";
    case Activation::GELU: return "gelu";
    case Activation::ELU: return "elu";
    case Activation::PReLU: return "prelu";
  }
  return "?";
}

}  // namespace tribev2::model
