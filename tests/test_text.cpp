// Text: word vocabularies and tokens, the conll (CoNLL-U and Penn word/TAG) and text-folder
// (aclImdb) formats, padding and masks, and malformed files named with their line.
#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include "core/api/Registries.h"
#include "core/text/Tokenizer.h"
#include "core/text/Vocabulary.h"
#include "core/text/WordVectors.h"
#include "tests/support/LoadFormat.h"
#include "tests/support/TestData.h"

using namespace omnilab;

namespace {
void write(const QString& file, const QByteArray& text)
{
    QDir().mkpath(QFileInfo(file).path());
    testing::writeBytes(file, text);
}

DatasetSplits load(const char* format, const QString& path, const nlohmann::json& extra = nlohmann::json::object())
{
    nlohmann::json o = {{"path", path.toStdString()}};
    o.update(extra);
    return testing::loadFormat(format, o);
}

void expectError(const char* format, const QString& path, const std::string& fragment)
{
    try {
        load(format, path);
        QFAIL("expected Error");
    } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
}

const QByteArray kConllu = "# sent_id = 1\n"
                           "# text = The cat sat.\n"
                           "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n"
                           "2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
                           "3\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\t_\n"
                           "4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_\n"
                           "\n"
                           "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
                           "1\tdo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_\n"
                           "2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_\n"
                           "3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_\n";
} // namespace

class TestText : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void vocabulary()
    {
        Vocabulary v = Vocabulary::build({{"b", "a", "b", "c"}, {"b", "a", "d"}}, 2);
        QCOMPARE(v.words(), (std::vector<std::string>{"<pad>", "<unk>", "<bos>", "<eos>", "b", "a"}));
        QCOMPARE(v.id("b"), int64_t(4));
        QCOMPARE(v.id("zebra"), Vocabulary::Unknown);
        QCOMPARE(v.encode({"a", "c"}), (std::vector<int64_t>{5, 1}));
        QCOMPARE(Vocabulary::build({{"x", "y", "z"}}, 1, 5).size(), int64_t(5));
        QVERIFY_THROWS_EXCEPTION(Error, v.word(99));
    }

    void tokens()
    {
        QCOMPARE(wordTokens("I don't like it.<br /><br />Great, 10/10!"),
                 (std::vector<std::string>{"i", "don't", "like", "it", "great", "10", "10"}));
        QCOMPARE(wordTokens("'quoted' words'"), (std::vector<std::string>{"quoted", "words"}));
        QCOMPARE(wordTokens("مرحبا بالعالم").size(), size_t(2)); // Arabic stays whole, UTF-8 intact
        QCOMPARE(wordTokens("مرحبا بالعالم")[1], std::string("بالعالم"));
    }

    void conllu()
    {
        QTemporaryDir dir;
        write(dir.filePath("train.conllu"), kConllu);
        write(dir.filePath("test.conllu"), "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_\n");
        DatasetSplits s = load("conll", dir.path());
        QCOMPARE(s.train->size(), int64_t(2));
        QCOMPARE(s.val->size(), int64_t(0)); // dev.conllu absent
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"AUX", "DET", "NOUN", "PART", "PUNCT", "VERB"}));
        Batch b = s.train->batch({1, 0});
        QCOMPARE(b.inputs.at("text").sizes().vec(), (std::vector<int64_t>{2, 4}));
        QCOMPARE(b.inputs.at("text_mask")[0].sum().item<int64_t>(), int64_t(3)); // do n't go: the 1-2 range is skipped
        QCOMPARE(b.inputs.at("text")[0][3].item<int64_t>(), Vocabulary::Pad);
        QCOMPARE(b.target[0][3].item<int64_t>(), int64_t(-100));
        QCOMPARE(b.target[1][2].item<int64_t>(), int64_t(5)); // sat/VERB
        // "dog" is not in the training vocabulary: <unk>.
        QCOMPARE(s.test->batch({0}).inputs.at("text")[0][1].item<int64_t>(), Vocabulary::Unknown);
        // XPOS (Penn) tags instead.
        QCOMPARE(load("conll", dir.path(), {{"tag_column", "xpos"}}).train->classNames().front(), std::string("."));
    }

    void pennWordSlashTag()
    {
        QTemporaryDir dir;
        write(dir.filePath("wsj.txt"), "The/DT cat/NN sat/VBD ./.\n\nA/DT 3/4-inch/JJ gap/NN\n");
        DatasetSplits s = load("conll", dir.path(), {{"train_file", "wsj.txt"}});
        QCOMPARE(s.train->size(), int64_t(2));
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{".", "DT", "JJ", "NN", "VBD"}));
        QCOMPARE(s.train->batch({1}).target[0][1].item<int64_t>(), int64_t(2)); // 3/4-inch is JJ: split at the last slash
    }

    void malformedTaggedFiles()
    {
        QTemporaryDir dir;
        write(dir.filePath("train.conllu"), "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tcat\tNOUN\n");
        expectError("conll", dir.path(), "train.conllu:2: expected 10 tab-separated CoNLL-U columns, got 3");
        write(dir.filePath("train.conllu"), kConllu);
        write(dir.filePath("dev.conllu"), "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tran\trun\tINTJ\tVBD\t_\t0\troot\t_\t_\n");
        expectError("conll", dir.path(), "dev.conllu:1: tag \"INTJ\" does not occur in the training file");
        QTemporaryDir penn;
        write(penn.filePath("train.conllu"), "The/DT cat sat/VBD\n");
        expectError("conll", penn.path(), "train.conllu:1: token \"cat\" is not word/TAG");
        QTemporaryDir empty;
        expectError("conll", empty.path(), "train.conllu: no such file");
        // A word that is not UTF-8 (Latin-1 "café") is refused at its line, not after training.
        QTemporaryDir latin1;
        write(latin1.filePath("train.conllu"), "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tcaf\xe9\tcafe\tNOUN\tNN\t_\t0\troot\t_\t_\n");
        expectError("conll", latin1.path(), "train.conllu:2: invalid UTF-8 at byte");
    }

    void textFolderAclImdb()
    {
        QTemporaryDir dir;
        for (int i = 0; i < 10; ++i) {
            write(dir.filePath(QStringLiteral("train/pos/%1_9.txt").arg(i)), "A wonderful film, truly wonderful.<br />Loved it");
            write(dir.filePath(QStringLiteral("train/neg/%1_2.txt").arg(i)), "A dull film. Dull dull dull and far too long");
        }
        write(dir.filePath("train/unsup/0_0.txt"), "not labelled");
        write(dir.filePath("test/pos/0_10.txt"), "wonderful");
        write(dir.filePath("test/neg/0_1.txt"), "dull and long, unseenword");
        DatasetSplits s = load("text-folder", dir.path(), {{"validation_fraction", 0.2}, {"max_tokens", 5}});
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"neg", "pos"}));
        QCOMPARE(s.train->size(), int64_t(16));
        QCOMPARE(s.val->size(), int64_t(4));
        QCOMPARE(s.test->size(), int64_t(2));
        Batch b = s.train->batch({0, 1, 2});
        QCOMPARE(b.inputs.at("text").sizes().vec(), (std::vector<int64_t>{3, 5})); // cut at max_tokens
        QCOMPARE(b.target.sizes().vec(), std::vector<int64_t>{3});
        auto test = s.test->batch({0, 1});
        QCOMPARE(test.target[0].item<int64_t>(), int64_t(0)); // neg first (sorted labels)
        QCOMPARE(test.inputs.at("text_mask")[0].sum().item<int64_t>(), int64_t(4));
        QCOMPARE(test.inputs.at("text")[0][3].item<int64_t>(), Vocabulary::Unknown);
        QCOMPARE(test.inputs.at("text_mask")[1].sum().item<int64_t>(), int64_t(1));
        QTemporaryDir empty;
        expectError("text-folder", empty.path(), "no label folders");
        // A review that is not UTF-8 (Latin-1 "café") is refused naming the file and the byte,
        // not taken into the vocabulary as mojibake.
        write(dir.filePath("train/pos/latin1_8.txt"), "A caf\xe9 of a film");
        expectError("text-folder", dir.path(), "latin1_8.txt: invalid UTF-8 at byte 6");
    }

    void wordTokenizerRoundTrip()
    {
        auto t = buildWordTokenizer({"The cat sat.", "the dog sat"}, 1, 0);
        QCOMPARE(t->kind(), std::string("word"));
        const auto ids = t->encode("The dog sat on");
        QCOMPARE(ids.size(), size_t(4));
        QCOMPARE(ids[3], Vocabulary::Unknown);
        QCOMPARE(t->decode(ids), std::string("the dog sat"));
        QCOMPARE(t->pieces()[0], std::string("<pad>"));
    }

    void bpeRoundTripAndCache()
    {
        std::string why;
        if (!sentencePieceAvailable(&why)) // the build requires it: a tokenizer that fails to load is a failure
            QFAIL(("SentencePiece did not load: " + why).c_str());
        std::vector<std::string> texts;
        const char* words[] = {"red", "green", "blue", "circle", "square", "triangle", "left", "right", "of", "the", "a", "small", "large"};
        for (int i = 0; i < 300; ++i)
            texts.push_back(std::string("A ") + words[i % 13] + " " + words[(i * 7) % 13] + " to the " + words[(i * 5) % 13] + " of " + words[(i * 3) % 13] + ".");
        QTemporaryDir cache;
        SentencePieceOptions o;
        o.vocabSize = 80;
        o.cacheDir = cache.path().toStdString();
        auto bpe = trainSentencePiece(texts, o);
        QCOMPARE(bpe->kind(), std::string("bpe"));
        QVERIFY(bpe->size() > 40 && bpe->size() <= 80);
        QCOMPARE(bpe->piece(0), std::string("<pad>"));
        QCOMPARE(bpe->piece(1), std::string("<unk>"));
        QCOMPARE(bpe->piece(2), std::string("<s>"));
        for (const std::string text : {"A red circle to the left of the square.", "greenish triangles", "Unseen WORDS, too!"}) {
            const auto ids = bpe->encode(text);
            QVERIFY(!ids.empty());
            for (int64_t id : ids)
                QVERIFY(id >= 1 && id < bpe->size());
            if (text[0] == 'A')
                QCOMPARE(bpe->decode(ids), text); // every character seen in training: exact
        }
        // Subwords: a frequent word is one piece, an unseen one several.
        QVERIFY(bpe->encode("triangle").size() < bpe->encode("trianglesque").size());
        const std::string model = sentencePieceModelPath(texts, o);
        QVERIFY(QFileInfo::exists(QString::fromStdString(model)));
        const auto modified = QFileInfo(QString::fromStdString(model)).lastModified();
        auto again = trainSentencePiece(texts, o);
        QCOMPARE(QFileInfo(QString::fromStdString(model)).lastModified(), modified); // from the cache
        QCOMPARE(again->encode("the red square"), bpe->encode("the red square"));
        o.modelType = "unigram";
        QVERIFY(sentencePieceModelPath(texts, o) != model);
        // A corrupt model file is an error naming it.
        testing::writeBytes(cache.filePath("broken.model"), "not a model");
        try {
            loadSentencePiece(cache.filePath("broken.model").toStdString());
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("broken.model") != std::string::npos, e.what());
        }
        // Training on no text fails with a message, never a crash.
        try {
            trainSentencePiece({}, o);
            QFAIL("expected Error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("unigram") != std::string::npos);
        }
    }

    void textFolderWithBpe()
    {
        std::string why;
        if (!sentencePieceAvailable(&why)) // the build requires it: a tokenizer that fails to load is a failure
            QFAIL(("SentencePiece did not load: " + why).c_str());
        QTemporaryDir dir, cache;
        for (int i = 0; i < 30; ++i) {
            write(dir.filePath(QStringLiteral("train/pos/%1_9.txt").arg(i)), "A wonderful film, truly wonderful. Loved it");
            write(dir.filePath(QStringLiteral("train/neg/%1_2.txt").arg(i)), "A dull film. Dull dull dull and far too long");
        }
        DatasetSplits s = load("text-folder", dir.path(), {{"tokenizer", "bpe"}, {"vocab_size", 60}, {"cache_dir", cache.path().toStdString()}});
        const auto pieces = s.train->inputVocabulary("text");
        QVERIFY(pieces.size() > 4 && pieces.size() <= 60);
        Batch b = s.train->batch({0});
        QVERIFY(b.inputs.at("text").max().item<int64_t>() < static_cast<int64_t>(pieces.size()));
        QCOMPARE(QDir(cache.path()).entryList({"bpe-*.model"}).size(), 1);
    }

    void wordVectors()
    {
        QTemporaryDir dir;
        write(dir.filePath("glove.txt"), "the 0.1 0.2 0.3\nCat 1 2 3\ncat 4 5 6\nDog -1 -2 -3\n");
        auto t = loadWordVectors(dir.filePath("glove.txt").toStdString(), {"<pad>", "cat", "dog", "zebra", "the"});
        QCOMPARE(t.dim, int64_t(3));
        QCOMPARE(t.foundCount, int64_t(3));
        QCOMPARE(t.found, (std::vector<bool>{false, true, true, false, true}));
        QCOMPARE(t.rows[1 * 3 + 0], 4.0f); // the exact "cat" wins over "Cat"
        QCOMPARE(t.rows[2 * 3 + 2], -3.0f); // "Dog" by case folding
        QCOMPARE(t.rows[3 * 3 + 1], 0.0f);
        write(dir.filePath("w2v.txt"), "2 2\nhello 0.5 0.25\nworld 1e-1 2\n");
        auto w = loadWordVectors(dir.filePath("w2v.txt").toStdString(), {"world"});
        QCOMPARE(w.dim, int64_t(2));
        QCOMPARE(w.rows[1], 2.0f);
        write(dir.filePath("ragged.txt"), "a 1 2 3\nb 1 2\n");
        write(dir.filePath("nan.txt"), "a 1 2\nb 1 x\n");
        write(dir.filePath("empty.txt"), "");
        for (const auto& [file, fragment] : std::vector<std::pair<QString, std::string>>{
                 {"ragged.txt", "ragged.txt:2"}, {"nan.txt", "nan.txt:2"}, {"empty.txt", "no word vectors"}, {"missing.txt", "cannot open"}}) {
            try {
                loadWordVectors(dir.filePath(file).toStdString(), {"a"});
                QFAIL("expected Error");
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestText)
#include "test_text.moc"
