#pragma once
// The attention inspector's figures from a query's attention (QueryResult::attentionJson):
// for one decoder layer, head and decoding step, each input's temporal attention over its
// frames (or tokens) and the spatial attention over each frame's cells as a grid, with the
// link-array gate on (as the model used it) and off (the same attention with the gate taken
// out and renormalised). Torch-free.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnilab {

struct InputAttention {
    std::string name;             // the input ("image", "video", "question", …)
    int frames = 0;               // t: frames of a video, tokens of a text, 1 for an image
    int rows = 0, cols = 0;       // the spatial grid of one frame (rows × cols = s cells)
    std::vector<double> temporal; // per frame: the temporal attention paid to it
    // per frame, rows × cols row-major: the spatial attention as used (gate on), and with
    // the gate divided out and renormalised over the input (gate off). Empty when the input
    // has no spatial cells (text) or the model has no spatial attention.
    std::vector<std::vector<double>> gateOn, gateOff;
    std::vector<std::vector<double>> gate; // the gate itself per frame and cell
};

struct AttentionSummary {
    int layers = 0, heads = 0, steps = 0;
    std::vector<std::string> outputs; // the decoded words; step i predicts outputs[i]
    std::string gatePlacement;        // after_softmax | before_softmax | "" (unknown)
};

// Throws Error naming what is missing when the JSON is not a query's attention.
AttentionSummary summarizeAttention(const nlohmann::json& attention);
// Throws Error for a layer, head or step out of range (naming it and the range).
std::vector<InputAttention> attentionMaps(const nlohmann::json& attention, int layer, int head, int step);

// The grid a frame's s cells came from: square when s is a square number, else 1 × s.
void cellGrid(int cells, int& rows, int& cols);

} // namespace omnilab
