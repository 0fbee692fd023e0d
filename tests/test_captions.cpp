// Image + text formats: coco-captions and vqa-v2 read from hand-written miniatures in the
// official layouts, their targets (captions with <bos>/<eos> and -100 padding; the VQA
// multiple-choice answer plus all ten human answers), held-out validation, SentencePiece
// questions cached beside the run, and bad input named by file, field or line.
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include "core/api/Registries.h"
#include "core/text/Tokenizer.h"
#include "core/text/Vocabulary.h"
#include "tests/support/LoadFormat.h"
#include "tests/support/TestData.h"
#include "tests/support/ErrorOf.h"

using namespace omnilab;
using omnilab::testing::errorOf;
using nlohmann::json;

namespace {

void write(const QString& file, const QByteArray& text)
{
    QDir().mkpath(QFileInfo(file).path());
    testing::writeBytes(file, text);
}

void writeJson(const QString& file, const json& j) { write(file, QByteArray::fromStdString(j.dump(1))); }

void writeJpeg(const QString& file, QColor colour)
{
    QDir().mkpath(QFileInfo(file).path());
    QImage image(40, 30, QImage::Format_RGB32);
    image.fill(colour);
    QVERIFY(image.save(file, "JPG"));
}


json cocoFile(const std::vector<std::pair<int, QString>>& images, const std::vector<std::pair<int, std::string>>& captions)
{
    json j = {{"info", {{"description", "miniature"}}}, {"licenses", json::array()}, {"images", json::array()}, {"annotations", json::array()}};
    for (const auto& [id, name] : images)
        j["images"].push_back({{"id", id}, {"file_name", name.toStdString()}, {"width", 40}, {"height", 30}});
    int annotation = 100;
    for (const auto& [id, caption] : captions)
        j["annotations"].push_back({{"id", annotation++}, {"image_id", id}, {"caption", caption}});
    return j;
}

// A miniature COCO: two training images (three captions), one validation image (two).
void writeCoco(const QString& root)
{
    writeJpeg(root + "/train2014/COCO_train2014_000000000001.jpg", Qt::red);
    writeJpeg(root + "/train2014/COCO_train2014_000000000002.jpg", Qt::blue);
    writeJpeg(root + "/val2014/COCO_val2014_000000000003.jpg", Qt::green);
    writeJson(root + "/annotations/captions_train2014.json",
              cocoFile({{1, "COCO_train2014_000000000001.jpg"}, {2, "COCO_train2014_000000000002.jpg"}},
                       {{1, "A red square."}, {2, "A blue square on a table"}, {1, "Something red"}}));
    writeJson(root + "/annotations/captions_val2014.json", cocoFile({{3, "COCO_val2014_000000000003.jpg"}}, {{3, "A green square"}, {3, "green"}}));
}

json vqaQuestions(const std::string& subset, const std::vector<std::tuple<int, int, std::string>>& questions)
{
    json j = {{"info", json::object()}, {"task_type", "Open-Ended"}, {"data_type", "mscoco"}, {"data_subtype", subset}, {"questions", json::array()}};
    for (const auto& [qid, image, text] : questions)
        j["questions"].push_back({{"question_id", qid}, {"image_id", image}, {"question", text}});
    return j;
}

json vqaAnnotations(const std::vector<std::tuple<int, int, std::string, std::vector<std::string>>>& answers)
{
    json j = {{"info", json::object()}, {"annotations", json::array()}};
    for (const auto& [qid, image, mc, all] : answers) {
        json a = {{"question_id", qid}, {"image_id", image}, {"question_type", "what"}, {"answer_type", "other"}, {"multiple_choice_answer", mc}, {"answers", json::array()}};
        int k = 1;
        for (const auto& s : all)
            a["answers"].push_back({{"answer", s}, {"answer_confidence", "yes"}, {"answer_id", k++}});
        j["annotations"].push_back(a);
    }
    return j;
}

std::vector<std::string> ten(const std::string& a, int n, const std::string& b)
{
    std::vector<std::string> out(static_cast<size_t>(n), a);
    out.resize(10, b);
    return out;
}

// A miniature VQA v2 over three COCO images: four training questions, two validation ones.
void writeVqa(const QString& root)
{
    writeJpeg(root + "/images/train2014/COCO_train2014_000000000001.jpg", Qt::red);
    writeJpeg(root + "/images/train2014/COCO_train2014_000000000002.jpg", Qt::blue);
    writeJpeg(root + "/images/val2014/COCO_val2014_000000000003.jpg", Qt::green);
    writeJson(root + "/v2_OpenEnded_mscoco_train2014_questions.json",
              vqaQuestions("train2014", {{10, 1, "What color is the square?"}, {11, 1, "How many squares are there?"}, {12, 2, "What color is the square?"}, {13, 2, "Is it a circle?"}}));
    writeJson(root + "/v2_mscoco_train2014_annotations.json",
              vqaAnnotations({{10, 1, "red", ten("red", 9, "orange")},
                              {11, 1, "one", ten("1", 7, "one")},
                              {12, 2, "blue", ten("blue", 10, "")},
                              {13, 2, "no", ten("no", 8, "yes")}}));
    writeJson(root + "/v2_OpenEnded_mscoco_val2014_questions.json", vqaQuestions("val2014", {{20, 3, "What color is the square?"}, {21, 3, "What is it made of?"}}));
    writeJson(root + "/v2_mscoco_val2014_annotations.json", vqaAnnotations({{20, 3, "green", ten("green", 6, "red")}, {21, 3, "wood", ten("wood", 10, "")}}));
}

json vqaOptions(const QString& root)
{
    return {{"path", root.toStdString()}, {"images", "images"}, {"image_size", {16, 16}}};
}

} // namespace

class TestCaptions : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cocoMiniature()
    {
        QTemporaryDir dir;
        writeCoco(dir.path());
        auto s = testing::loadFormat("coco-captions", {{"path", dir.path().toStdString()}, {"image_size", {24, 32}}, {"min_count", 1}});
        QCOMPARE(s.train->size(), int64_t(3)); // one sample per caption
        QCOMPARE(s.val->size(), int64_t(1));   // one sample per image
        QCOMPARE(s.test->size(), int64_t(0));
        Batch b = s.train->batch({0, 1, 2});
        QCOMPARE(b.inputs.at("image").sizes().vec(), (std::vector<int64_t>{3, 3, 24, 32}));
        QCOMPARE(b.target.dim(), int64_t(3));
        QCOMPARE(b.target.size(1), int64_t(1));
        const auto words = s.train->classNames();
        auto decode = [&](const torch::Tensor& row) {
            std::string out;
            for (int64_t i = 0; i < row.size(0); ++i) {
                const int64_t id = row[i].item<int64_t>();
                if (id == -100)
                    break;
                out += (out.empty() ? "" : " ") + words[static_cast<size_t>(id)];
            }
            return out;
        };
        // Image 1's captions come first (file order), each wrapped in <bos> … <eos>.
        QCOMPARE(decode(b.target[0][0]), std::string("<bos> a red square <eos>"));
        QCOMPARE(decode(b.target[1][0]), std::string("<bos> something red <eos>"));
        QCOMPARE(decode(b.target[2][0]), std::string("<bos> a blue square on a table <eos>"));
        QCOMPARE(b.target[0][0][5].item<int64_t>(), int64_t(-100)); // padding
        // The red image is red; the blue one blue.
        QVERIFY(b.inputs.at("image")[0][0].to(torch::kFloat).mean().item<float>() > 200);
        QVERIFY(b.inputs.at("image")[2][2].to(torch::kFloat).mean().item<float>() > 200);

        Batch v = s.val->batch({0});
        QCOMPARE(v.target.sizes().vec(), (std::vector<int64_t>{1, 2, 5})); // both captions kept
        QCOMPARE(decode(v.target[0][1]), std::string("<bos> <unk> <eos>"));
        QVERIFY(decode(v.target[0][0]).find("<unk>") != std::string::npos); // "green" never in training

        auto perImage = testing::loadFormat("coco-captions", {{"path", dir.path().toStdString()}, {"train_samples", "image"}, {"image_size", {8, 8}}});
        QCOMPARE(perImage.train->size(), int64_t(2));
        QCOMPARE(perImage.train->batch({0}).target.size(1), int64_t(2));
    }

    void cocoHeldOutValidation()
    {
        QTemporaryDir dir;
        writeCoco(dir.path());
        auto s = testing::loadFormat("coco-captions", {{"path", dir.path().toStdString()}, {"val_annotations", ""}, {"validation_fraction", 0.5}, {"image_size", {8, 8}}});
        QCOMPARE(s.val->size(), int64_t(1)); // half of two images, held out whole with all its captions
        const int64_t heldCaptions = s.val->batch({0}).target.size(1);
        QCOMPARE(s.train->size() + heldCaptions, int64_t(3)); // the other image's captions train
    }

    void cocoBadInput()
    {
        QTemporaryDir dir;
        writeCoco(dir.path());
        const std::string root = dir.path().toStdString();
        const QString captions = dir.filePath("annotations/captions_train2014.json");
        // An entry naming a missing image: skipped with a warning naming it, or fatal.
        writeJson(captions, cocoFile({{1, "COCO_train2014_000000000001.jpg"}, {9, "gone.jpg"}}, {{1, "red"}, {9, "lost"}}));
        auto s = testing::loadFormat("coco-captions", {{"path", root}, {"image_size", {8, 8}}});
        QCOMPARE(s.train->size(), int64_t(1));
        const auto warnings = s.train->drainWarnings();
        QCOMPARE(warnings.size(), size_t(1));
        QVERIFY2(warnings[0].find("gone.jpg") != std::string::npos && warnings[0].find("captions_train2014.json") != std::string::npos, warnings[0].c_str());
        std::string e = errorOf([&] { testing::loadFormat("coco-captions", {{"path", root}, {"on_error", "fail"}}); });
        QVERIFY2(e.find("gone.jpg") != std::string::npos, e.c_str());

        // A truncated JPEG is found when decoded: skipped (next sample used) or fatal.
        QFile jpeg(dir.filePath("train2014/COCO_train2014_000000000001.jpg"));
        QVERIFY(jpeg.open(QIODevice::ReadOnly));
        const QByteArray bytes = jpeg.readAll();
        jpeg.close();
        testing::writeBytes(dir.filePath("train2014/COCO_train2014_000000000002.jpg"), bytes.left(bytes.size() / 2));
        writeJson(captions, cocoFile({{1, "COCO_train2014_000000000001.jpg"}, {2, "COCO_train2014_000000000002.jpg"}}, {{1, "red"}, {2, "half"}}));
        auto t = testing::loadFormat("coco-captions", {{"path", root}, {"image_size", {8, 8}}});
        Batch b = t.train->batch({1});
        QCOMPARE(b.target.size(0), int64_t(1));
        const auto w = t.train->drainWarnings();
        QVERIFY(!w.empty() && w[0].find("COCO_train2014_000000000002.jpg") != std::string::npos);
        auto f = testing::loadFormat("coco-captions", {{"path", root}, {"image_size", {8, 8}}, {"on_error", "fail"}});
        e = errorOf([&] { f.train->batch({1}); });
        QVERIFY2(e.find("COCO_train2014_000000000002.jpg") != std::string::npos, e.c_str());

        // Malformed JSON: the file, line and column.
        write(captions, "{\n  \"images\": [\n    {\"id\": 1,,}\n");
        e = errorOf([&] { testing::loadFormat("coco-captions", {{"path", root}}); });
        QVERIFY2(e.find("captions_train2014.json") != std::string::npos && e.find("line 3") != std::string::npos, e.c_str());
        // A field of the wrong type: its JSON path.
        writeJson(captions, {{"images", {{{"id", 1}, {"file_name", "COCO_train2014_000000000001.jpg"}}}}, {"annotations", {{{"image_id", 1}, {"caption", 7}}}}});
        e = errorOf([&] { testing::loadFormat("coco-captions", {{"path", root}}); });
        QVERIFY2(e.find("/annotations/0/caption") != std::string::npos, e.c_str());
        // A caption naming an image the file does not list.
        writeJson(captions, cocoFile({{1, "COCO_train2014_000000000001.jpg"}}, {{5, "who?"}}));
        e = errorOf([&] { testing::loadFormat("coco-captions", {{"path", root}}); });
        QVERIFY2(e.find("/annotations/0/image_id") != std::string::npos, e.c_str());
        // A missing annotations file names the field.
        writeCoco(dir.path());
        e = errorOf([&] { testing::loadFormat("coco-captions", {{"path", root}, {"val_annotations", "nope.json"}}); });
        QVERIFY2(e.find("nope.json") != std::string::npos && e.find("val_annotations") != std::string::npos, e.c_str());
    }

    void vqaMiniature()
    {
        QTemporaryDir dir;
        writeVqa(dir.path());
        auto s = testing::loadFormat("vqa-v2", vqaOptions(dir.path()));
        // Answers normalised ("one" -> "1"), most frequent first, ties alphabetical.
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"1", "blue", "no", "red"}));
        QCOMPARE(s.train->size(), int64_t(4));
        QCOMPARE(s.val->size(), int64_t(2));
        Batch b = s.train->batch({0, 1, 2, 3});
        QCOMPARE(b.inputs.at("image").sizes().vec(), (std::vector<int64_t>{4, 3, 16, 16}));
        QCOMPARE(b.target.sizes().vec(), (std::vector<int64_t>{4, 11}));
        QCOMPARE(b.target[0][0].item<int64_t>(), int64_t(3));   // red
        QCOMPARE(b.target[0][10].item<int64_t>(), int64_t(-1)); // "orange": outside the vocabulary
        QCOMPARE(b.target[1][0].item<int64_t>(), int64_t(0));   // "one" == "1"
        QCOMPARE(b.target[1][9].item<int64_t>(), int64_t(0));
        QCOMPARE(b.target[3][10].item<int64_t>(), int64_t(-1)); // "yes" is not a training answer
        const auto& q = b.inputs.at("question");
        const auto& mask = b.inputs.at("question_mask");
        QCOMPARE(q.size(0), int64_t(4));
        QCOMPARE(mask.sum(1)[0].item<int64_t>(), int64_t(5));   // what color is the square
        QCOMPARE(mask.sum(1)[3].item<int64_t>(), int64_t(4));   // is it a circle
        QCOMPARE(q[3][4].item<int64_t>(), Vocabulary::Pad);
        QCOMPARE(q[0][0].item<int64_t>(), q[2][0].item<int64_t>());
        const auto vocab = s.train->inputVocabulary("question");
        QCOMPARE(vocab[static_cast<size_t>(q[0][1].item<int64_t>())], std::string("color"));
        QVERIFY(s.train->inputVocabulary("image").empty());
        // Validation keeps every question; "green" and "wood" were never training answers.
        Batch v = s.val->batch({0, 1});
        QCOMPARE(v.target[0][0].item<int64_t>(), int64_t(-1));
        QCOMPARE(v.target[0][7].item<int64_t>(), int64_t(3)); // one annotator said red
        QCOMPARE(v.inputs.at("question_mask").sum(1)[1].item<int64_t>(), int64_t(5));
        QCOMPARE(v.inputs.at("question")[1][3].item<int64_t>(), Vocabulary::Unknown); // "made"
    }

    void vqaTopAnswersAndHeldOut()
    {
        QTemporaryDir dir;
        writeVqa(dir.path());
        json o = vqaOptions(dir.path());
        o["answers"] = 2;
        auto s = testing::loadFormat("vqa-v2", o);
        QCOMPARE(s.train->classNames(), (std::vector<std::string>{"1", "blue"}));
        QCOMPARE(s.train->size(), int64_t(2)); // "red" and "no" questions dropped
        o["train_unanswerable"] = "keep";
        QCOMPARE(testing::loadFormat("vqa-v2", o).train->size(), int64_t(4));
        json h = vqaOptions(dir.path());
        h["val_subset"] = "";
        h["validation_fraction"] = 0.5;
        auto held = testing::loadFormat("vqa-v2", h);
        QCOMPARE(held.train->size() + held.val->size(), int64_t(4));
        QCOMPARE(held.val->size(), int64_t(2)); // one image, with both its questions
    }

    void vqaBadInput()
    {
        QTemporaryDir dir;
        writeVqa(dir.path());
        const std::string root = dir.path().toStdString();
        // A question about an image that is not there: skipped with a warning, or fatal.
        writeJson(dir.filePath("v2_OpenEnded_mscoco_train2014_questions.json"),
                  vqaQuestions("train2014", {{10, 1, "What color is the square?"}, {11, 77, "Where?"}}));
        writeJson(dir.filePath("v2_mscoco_train2014_annotations.json"), vqaAnnotations({{10, 1, "red", ten("red", 10, "")}, {11, 77, "here", ten("here", 10, "")}}));
        auto s = testing::loadFormat("vqa-v2", vqaOptions(dir.path()));
        QCOMPARE(s.train->size(), int64_t(1));
        const auto w = s.train->drainWarnings();
        QVERIFY(w.size() == 1 && w[0].find("COCO_train2014_000000000077.jpg") != std::string::npos);
        json fail = vqaOptions(dir.path());
        fail["on_error"] = "fail";
        std::string e = errorOf([&] { testing::loadFormat("vqa-v2", fail); });
        QVERIFY2(e.find("/questions/1") != std::string::npos && e.find("000000000077") != std::string::npos, e.c_str());
        // A question with no annotation names both files.
        writeJson(dir.filePath("v2_mscoco_train2014_annotations.json"), vqaAnnotations({{10, 1, "red", ten("red", 10, "")}}));
        e = errorOf([&] { testing::loadFormat("vqa-v2", vqaOptions(dir.path())); });
        QVERIFY2(e.find("v2_mscoco_train2014_annotations.json") != std::string::npos && e.find("question 11") != std::string::npos, e.c_str());
        // An answer that is not a string: its JSON path.
        json bad = vqaAnnotations({{10, 1, "red", ten("red", 10, "")}, {11, 77, "x", ten("x", 10, "")}});
        bad["annotations"][1]["answers"][4]["answer"] = 3;
        writeJson(dir.filePath("v2_mscoco_train2014_annotations.json"), bad);
        e = errorOf([&] { testing::loadFormat("vqa-v2", vqaOptions(dir.path())); });
        QVERIFY2(e.find("/annotations/1/answers/4/answer") != std::string::npos, e.c_str());
        // An image pattern whose width would build a 1 GB file name, or is not a number: named.
        writeJson(dir.filePath("v2_mscoco_train2014_annotations.json"), vqaAnnotations({{10, 1, "red", ten("red", 10, "")}, {11, 77, "here", ten("here", 10, "")}}));
        for (const char* pattern : {"COCO_{subset}_{id:999999999}.jpg", "COCO_{subset}_{id:x}.jpg", "COCO_{subset}_{idx}.jpg"}) {
            json o = vqaOptions(dir.path());
            o["image_pattern"] = pattern;
            e = errorOf([&] { testing::loadFormat("vqa-v2", o); });
            QVERIFY2(e.find("image_pattern") != std::string::npos && e.find("1 to 99 digits") != std::string::npos && e.size() < 400, e.c_str());
        }
        // Truncated JSON.
        write(dir.filePath("v2_OpenEnded_mscoco_train2014_questions.json"), "{\"questions\": [");
        e = errorOf([&] { testing::loadFormat("vqa-v2", vqaOptions(dir.path())); });
        QVERIFY2(e.find("v2_OpenEnded_mscoco_train2014_questions.json") != std::string::npos && e.find("line 1") != std::string::npos, e.c_str());
    }

    void vqaSentencePieceQuestionsCached()
    {
        std::string why;
        if (!sentencePieceAvailable(&why)) // the build requires it: a tokenizer that fails to load is a failure
            QFAIL(("SentencePiece did not load: " + why).c_str());
        QTemporaryDir dir, cache;
        writeVqa(dir.path());
        json o = vqaOptions(dir.path());
        o["tokenizer"] = "bpe";
        o["vocab_size"] = 40;
        o["cache_dir"] = cache.path().toStdString();
        auto s = testing::loadFormat("vqa-v2", o);
        const auto models = QDir(cache.path()).entryList({"*.model"});
        QCOMPARE(models.size(), 1);
        const auto vocab = s.train->inputVocabulary("question");
        QVERIFY(vocab.size() > 4 && vocab.size() <= 40); // SentencePiece may stop short on so little text
        QCOMPARE(vocab[0], std::string("<pad>"));
        Batch b = s.train->batch({0});
        std::vector<int64_t> ids;
        for (int64_t i = 0; i < b.inputs.at("question").size(1); ++i)
            ids.push_back(b.inputs.at("question")[0][i].item<int64_t>());
        QCOMPARE(loadSentencePiece(cache.filePath(models[0]).toStdString())->decode(ids), std::string("What color is the square?"));
        const auto modified = QFileInfo(cache.filePath(models[0])).lastModified();
        testing::loadFormat("vqa-v2", o); // same texts: found in the cache, not trained again
        QCOMPARE(QFileInfo(cache.filePath(models[0])).lastModified(), modified);
        QCOMPARE(QDir(cache.path()).entryList({"*.model"}).size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestCaptions)
#include "test_captions.moc"
