#pragma once
// Work off the GUI thread: runBackground(owner, work, done) runs `work` on a thread of its
// own and then `done(result, error)` on the GUI thread, only while `owner` is alive. An
// exception from `work` arrives as `error` (its what()), with a default-made result.
// Superseded requests are the caller's to drop (a generation counter in `done`).
#include <QCoreApplication>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "core/util/ErrorText.h"

namespace omnilab {

template <class Work, class Done>
void runBackground(QObject* owner, Work work, Done done)
{
    using Result = std::invoke_result_t<Work&>;
    QPointer<QObject> guard(owner);
    QThread* thread = QThread::create([guard, work = std::move(work), done = std::move(done)]() mutable {
        auto result = std::make_shared<Result>();
        QString error;
        try {
            *result = work();
        } catch (const std::exception& e) {
            error = QString::fromStdString(messageOf(e));
        }
        QMetaObject::invokeMethod(
            qApp,
            [guard, result, error, done = std::move(done)]() mutable {
                if (guard)
                    done(std::move(*result), error);
            },
            Qt::QueuedConnection);
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

} // namespace omnilab
