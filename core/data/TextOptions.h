#pragma once
// The tokenizer options every free-text format shares (text-folder, coco-captions, vqa-v2),
// and building the tokenizer they describe from a split's training texts. Torch-free.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/Schema.h"
#include "core/text/Tokenizer.h"

namespace omnilab {

// tokenizer (word | bpe | unigram), vocab_size, min_count, max_vocab, max_tokens, cache_dir.
void addTokenizerFields(Schema& schema, int64_t maxTokens, int64_t minCount, int64_t bpeVocabulary);

// The tokenizer `options` asks for, built from (or, for SentencePiece, trained on and cached
// for) `trainingTexts`. A "cache_dir" of "" means the run's own folder when the engine
// fills it in (loadDatasets), else the system's temporary folder.
std::shared_ptr<Tokenizer> makeTokenizer(const nlohmann::json& options, const std::vector<std::string>& trainingTexts);

} // namespace omnilab
