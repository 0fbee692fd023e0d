#include "core/analysis/AttentionMaps.h"

#include <cmath>

#include "core/util/Error.h"

namespace omnilab {

void cellGrid(int cells, int& rows, int& cols)
{
    const int r = static_cast<int>(std::lround(std::sqrt(static_cast<double>(cells))));
    if (r > 0 && r * r == cells) {
        rows = cols = r;
    } else {
        rows = cells > 0 ? 1 : 0;
        cols = cells;
    }
}

AttentionSummary summarizeAttention(const nlohmann::json& a)
{
    if (!a.is_object() || !a.contains("layers") || !a["layers"].is_array() || a["layers"].empty() || !a.contains("inputs"))
        throw Error("not a query's attention: it needs \"inputs\" and a non-empty \"layers\"");
    AttentionSummary s;
    s.layers = static_cast<int>(a["layers"].size());
    const auto& temporal = a["layers"][0].at("temporal");
    s.heads = static_cast<int>(temporal.size());
    s.steps = s.heads > 0 ? static_cast<int>(temporal[0].size()) : 0;
    if (a.contains("outputs"))
        s.outputs = a["outputs"].get<std::vector<std::string>>();
    s.gatePlacement = a.value("gate_placement", std::string());
    return s;
}

std::vector<InputAttention> attentionMaps(const nlohmann::json& a, int layer, int head, int step)
{
    const AttentionSummary s = summarizeAttention(a);
    auto check = [](const char* what, int value, int count) {
        if (value < 0 || value >= count)
            throw Error(std::string(what) + " " + std::to_string(value) + " is out of range (0 to " + std::to_string(count - 1) + ")");
    };
    check("layer", layer, s.layers);
    check("head", head, s.heads);
    check("step", step, s.steps);
    const auto& l = a["layers"][static_cast<size_t>(layer)];
    const auto temporal = l["temporal"][static_cast<size_t>(head)][static_cast<size_t>(step)].get<std::vector<double>>();
    std::vector<double> spatial, gate;
    if (l.contains("spatial")) {
        spatial = l["spatial"][static_cast<size_t>(head)][static_cast<size_t>(step)].get<std::vector<double>>();
        if (l.contains("gate")) // older runs recorded no gate: every cell then reads as 1
            gate = l["gate"][static_cast<size_t>(head)][static_cast<size_t>(step)].get<std::vector<double>>();
    }
    std::vector<InputAttention> out;
    for (const auto& in : a["inputs"]) {
        InputAttention m;
        m.name = in.value("name", std::string());
        m.frames = in.value("t", 0);
        const int cells = in.value("s", 0);
        const int tOffset = in.value("temporal_offset", 0), sOffset = in.value("spatial_offset", -1);
        for (int f = 0; f < m.frames; ++f) {
            const size_t k = static_cast<size_t>(tOffset + f);
            m.temporal.push_back(k < temporal.size() ? temporal[k] : 0.0);
        }
        // Inputs with a single cell per frame (text) only reach the temporal cache.
        if (cells > 1 && sOffset >= 0 && !spatial.empty()) {
            cellGrid(cells, m.rows, m.cols);
            double offTotal = 0;
            std::vector<std::vector<double>> off;
            for (int f = 0; f < m.frames; ++f) {
                std::vector<double> on(static_cast<size_t>(cells)), g(static_cast<size_t>(cells)), o(static_cast<size_t>(cells));
                for (int c = 0; c < cells; ++c) {
                    const size_t k = static_cast<size_t>(sOffset + f * cells + c);
                    on[static_cast<size_t>(c)] = k < spatial.size() ? spatial[k] : 0.0;
                    g[static_cast<size_t>(c)] = k < gate.size() ? gate[k] : 1.0;
                    // After the softmax the gate multiplies the probabilities: dividing it out
                    // gives them back. Before the softmax it scales logits, which cannot be
                    // undone from probabilities: there "off" is the gated map itself.
                    const double gv = g[static_cast<size_t>(c)];
                    o[static_cast<size_t>(c)] = s.gatePlacement == "before_softmax" ? on[static_cast<size_t>(c)] : gv > 1e-12 ? on[static_cast<size_t>(c)] / gv : 0.0;
                    offTotal += o[static_cast<size_t>(c)];
                }
                m.gateOn.push_back(std::move(on));
                m.gate.push_back(std::move(g));
                off.push_back(std::move(o));
            }
            for (auto& frame : off)
                for (auto& v : frame)
                    v = offTotal > 0 ? v / offTotal : 0.0;
            m.gateOff = std::move(off);
        }
        out.push_back(std::move(m));
    }
    return out;
}

} // namespace omnilab
