#pragma once
// qcustomplot.h uses Qt's keyword macros (signals, slots, emit, foreach), which the
// project turns off (QT_NO_KEYWORDS, because torch headers use `slots`). They are
// defined for this one include and removed again. UI files include this, never the
// header directly.
#include <QtGlobal>
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
