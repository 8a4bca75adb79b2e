// Setup: the recipe editor round-trips every preset exactly through core/reward's parser,
// edits reach the JSON with their types, the parser's errors are marked on the field they
// name, the rubric criteria table is a sound model, and the pickers read real files.
#include <QAbstractItemModelTester>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/reward/recipe.h"
#include "tests/test_registry.h"
#include "ui/setup/criteria_model.h"
#include "ui/setup/dataset_picker.h"
#include "ui/setup/json_form.h"
#include "ui/setup/recipe_editor.h"
#include "ui/setup/setup_panel.h"
#include "ui/setup/try_rewards.h"

using namespace reflab::ui;
using nlohmann::json;

class TestSetup : public QObject {
    Q_OBJECT
private slots:
    void presetsRoundTrip_data() {
        QTest::addColumn<QString>("preset");
        const QStringList names = RecipeEditor::presetNames();
        QVERIFY2(names.size() >= 5, qPrintable(RecipeEditor::presetsDir()));
        for (const QString& n : names) QTest::newRow(qPrintable(n)) << n;
    }
    void presetsRoundTrip() {
        QFETCH(QString, preset);
        const QString path = RecipeEditor::presetsDir() + "/" + preset + ".json";
        const json expected = reflab::reward::loadRecipeFile(path.toStdString()).resolved;
        RecipeEditor editor;
        QString error;
        QVERIFY2(editor.loadPreset(preset, &error), qPrintable(error));
        // The editor writes exactly the parser's resolved recipe...
        const json edited = editor.recipeJson();
        QCOMPARE(QString::fromStdString(edited.dump(1)), QString::fromStdString(expected.dump(1)));
        QCOMPARE(editor.validate(), QString());
        // ...and a saved file parses back to the same recipe.
        QTemporaryDir dir;
        QVERIFY(editor.saveFile(dir.filePath("r.json"), &error));
        const json reread =
            reflab::reward::loadRecipeFile(dir.filePath("r.json").toStdString()).resolved;
        QCOMPARE(QString::fromStdString(reread.dump()), QString::fromStdString(expected.dump()));
        // Loading the saved file into a fresh editor gives the same JSON again.
        RecipeEditor again;
        QVERIFY(again.loadFile(dir.filePath("r.json"), &error));
        QCOMPARE(QString::fromStdString(again.recipeJson().dump()),
                 QString::fromStdString(expected.dump()));
    }

    void editsKeepTypes() {
        RecipeEditor editor;
        QString error;
        QVERIFY(editor.loadPreset("nover", &error));
        auto* temp =
            editor.form("generation")->findChild<QLineEdit*>("field:generation.temperature");
        QVERIFY(temp);
        temp->setText("0.5");
        auto* group =
            editor.form("generation")->findChild<QLineEdit*>("field:generation.group_size");
        group->setText("4");
        const json j = editor.recipeJson();
        QVERIFY(j["generation"]["temperature"].is_number_float());
        QCOMPARE(j["generation"]["temperature"].get<double>(), 0.5);
        QVERIFY(j["generation"]["group_size"].is_number_integer());
        QCOMPARE(j["generation"]["group_size"].get<int>(), 4);
        QCOMPARE(editor.validate(), QString());
        // nover's log_base accepts "e" (a string in a number field).
        JsonForm* nover = nullptr;
        for (int i = 0; i < editor.componentCount(); ++i)
            if (editor.componentForm(i)->field("type") == "nover") nover = editor.componentForm(i);
        QVERIFY(nover);
        QVERIFY(nover->setField("log_base", "e"));
        QCOMPARE(editor.validate(), QString());
        QCOMPARE(editor.recipeJson()["rewards"][1]["log_base"], json("e"));
    }

    void invalidFieldsAreMarked() {
        RecipeEditor editor;
        QString error;
        QVERIFY(editor.loadPreset("nover", &error));
        auto* group =
            editor.form("generation")->findChild<QLineEdit*>("field:generation.group_size");
        group->setText("many");
        const QString e = editor.validate();
        QVERIFY2(e.startsWith("generation.group_size: "), qPrintable(e));
        auto* label = editor.form("generation")->findChild<QLabel*>("error:generation.group_size");
        QVERIFY(label);
        QVERIFY(!label->isHidden());
        QVERIFY(label->text().contains("integer"));
        QVERIFY(!group->styleSheet().isEmpty());
        // Fixing it clears the mark.
        group->setText("8");
        QCOMPARE(editor.validate(), QString());
        QVERIFY(label->isHidden());
        QVERIFY(group->styleSheet().isEmpty());

        // A nested component field: rewards[1].proxy.alpha out of [0, 1].
        JsonForm* nover = editor.componentForm(1);
        QVERIFY(nover->setField("proxy.alpha", 2.5));
        const QString e2 = editor.validate();
        QVERIFY2(e2.startsWith("rewards[1].proxy.alpha"), qPrintable(e2));
        auto* alphaError = nover->findChild<QLabel*>("error:rewards[1].proxy.alpha");
        QVERIFY(alphaError);
        QVERIFY(!alphaError->isHidden());
        // The template's user message must keep {question}; the parser reports the first
        // error in recipe order (template before rewards), the other shows once it is fixed.
        QVERIFY(editor.form("template")->setField("user", "no placeholder"));
        QVERIFY(editor.validate().startsWith("template.user"));
        QVERIFY(!editor.form("template")->findChild<QLabel*>("error:template.user")->isHidden());
        QVERIFY(alphaError->isHidden());
        QVERIFY(editor.form("template")->setField("user", "Q: {question}"));
        QVERIFY(editor.validate().startsWith("rewards[1].proxy.alpha"));
        QVERIFY(nover->setField("proxy.alpha", 0.5));
        QCOMPARE(editor.validate(), QString());
    }

    void componentsAddRemove() {
        RecipeEditor editor;
        QString error;
        QVERIFY(editor.loadPreset("nover", &error));
        const int n = editor.componentCount();
        editor.addComponent("rlpr");
        editor.addComponent("rubric");
        editor.addComponent("nover");  // a second nover gets a unique name
        QCOMPARE(editor.componentCount(), n + 3);
        QCOMPARE(editor.validate(), QString());
        const json j = editor.recipeJson();
        QCOMPARE(j["rewards"][size_t(n + 2)]["name"], json("nover 2"));
        QVERIFY(j["rewards"][size_t(n)].contains("std_filter"));  // rlpr's defaults are shown
        editor.moveComponent(n + 2, -1);
        QCOMPARE(editor.recipeJson()["rewards"][size_t(n + 1)]["name"], json("nover 2"));
        editor.removeComponent(n + 1);
        QCOMPARE(editor.componentCount(), n + 2);
        QCOMPARE(editor.validate(), QString());
    }

    // A recipe that mixes rgr with grpo advantages runs, with the resolved recipe's warning,
    // which the editor keeps for the panel to show.
    void rgrWithGrpoWarns() {
        RecipeEditor editor;
        editor.setRecipe(json{{"rewards", json::array({{{"type", "rgr"}}})},
                              {"algorithm", {{"advantage", "grpo"}, {"aggregation", "seq_sum"}}}});
        QCOMPARE(editor.validate(), QString());
        QCOMPARE(editor.lastWarnings().size(), 1);
        QVERIFY(editor.lastWarnings()[0].startsWith("algorithm.advantage: \"grpo\""));
        editor.setRecipe(json{{"rewards", json::array({{{"type", "rgr"}}})},
                              {"algorithm", {{"advantage", "rloo"}, {"aggregation", "seq_sum"}}}});
        QCOMPARE(editor.validate(), QString());
        QVERIFY(editor.lastWarnings().isEmpty());
    }

    void criteriaModelIsSound() {
        CriteriaModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        RecipeEditor editor;
        QString error;
        QVERIFY(editor.loadPreset("rubric", &error));
        const json criteria = editor.recipeJson()["rewards"][1]["criteria"];
        model.setCriteria(criteria);
        QCOMPARE(model.rowCount(), int(criteria.size()));
        QCOMPARE(model.index(0, CriteriaModel::Name).data().toString(), QString("structure"));
        QVERIFY(
            model.index(0, CriteriaModel::Parameters).data().toString().contains("introduction"));
        QVERIFY(model.setData(model.index(1, CriteriaModel::Weight), 3.0));
        QCOMPARE(model.criteria()[1]["weight"].get<double>(), 3.0);
        QVERIFY(!model.setData(model.index(1, CriteriaModel::Parameters), "{not json"));
        QVERIFY(model.setData(model.index(1, CriteriaModel::Parameters), "{\"min_ratio\": 3}"));
        QCOMPARE(model.criteria()[1]["min_ratio"].get<double>(), 3.0);
        model.addCriterion();
        QCOMPARE(model.rowCount(), int(criteria.size()) + 1);
        model.removeCriterion(0);
        QCOMPARE(model.rowCount(), int(criteria.size()));
    }

    void datasetPickerReadsRowsAndFields() {
        QTemporaryDir dir;
        QFile f(dir.filePath("d.jsonl"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(
            "{\"question\": \"1+1?\", \"answer\": \"2\"}\n\n{\"question\": \"2+2?\", \"answer\": "
            "\"4\", \"id\": 7}\n");
        f.close();
        DatasetPicker picker;
        picker.setDataset(dir.filePath("d.jsonl"), "question", "answer");
        QCOMPARE(picker.rowCount(), 2);
        QCOMPARE(picker.fields(), QStringList({"answer", "question", "id"}));
        QVERIFY(!picker.summary().contains("c62828"));  // no error
        picker.setDataset(dir.filePath("d.jsonl"), "prompt", "answer");
        QVERIFY(picker.summary().contains("prompt"));  // the core's error names the field
    }

    void tryRewardsTable() {
        TryRewards t;
        const QByteArray out =
            "{\"row\":0,\"total\":1.5,\"components\":{\"format\":{\"value\":1},\"nover\":{"
            "\"value\":0.5,\"P_r\":3.2,\"rank\":2}}}\n"
            "{\"row\":1,\"total\":0,\"components\":{\"format\":{\"value\":0},\"nover\":{\"value\":"
            "0,\"valid\":false}}}\n";
        t.showScores({"<think>a</think><answer>2</answer>", "bad"}, out);
        QTableWidget* table = t.table();
        QCOMPARE(table->rowCount(), 2);
        QStringList headers;
        for (int c = 0; c < table->columnCount(); ++c)
            headers << table->horizontalHeaderItem(c)->text();
        QCOMPARE(headers, QStringList({"Completion", "Total", "format", "nover", "nover.P_r",
                                       "nover.rank", "nover.valid"}));
        QCOMPARE(table->item(0, 4)->text(), QString("3.2"));
        QCOMPARE(table->item(1, 6)->text(), QString("false"));
    }

    void setupPanelStartsValid() {
        SetupPanel panel;
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QCOMPARE(panel.editor()->validate(), QString());
        QSignalSpy spy(&panel, &SetupPanel::startRequested);
        auto* start = panel.findChild<QPushButton*>("startButton");
        QVERIFY(start->isEnabled());
        panel.setStartEnabled(false, "no workspace");
        QVERIFY(!start->isEnabled());
        QCOMPARE(start->toolTip(), QString("no workspace"));
        panel.setStartEnabled(true, {});
        start->click();
        QCOMPARE(spy.count(), 1);
    }
};

REFLAB_TEST_GUI(TestSetup);
#include "test_setup.moc"
