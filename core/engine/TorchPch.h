// Precompiled header for the torch translation units of core: torch/torch.h alone costs
// about 15 s per file to parse on the reference machine.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>
