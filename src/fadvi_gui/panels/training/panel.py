"""Training panel: hyperparameters, Train and Cancel, the expected time, progress and live curves.

The panel builds its widgets and emits requests; it learns what happens to a
run only through the methods the main window calls.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QLabel, QScrollArea, QSpinBox,
    QSplitter, QVBoxLayout, QWidget,
)
from superqt import QCollapsible

from fadvi_gui.model.choices import DEFAULT_TIME_BUDGET_S, TrainingSettings
from fadvi_gui.panels.common.run_controls import RunControls
from fadvi_gui.panels.training._hyperparameters import MODEL_PARAMS, Param
from fadvi_gui.panels.training._training_curves import TrainingCurves

if TYPE_CHECKING:
    from fadvi_core import TrainingProgress

_DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "gpu": "GPU (CUDA)", "mps": "GPU (Apple MPS)"}


class TrainingPanel(QWidget):
    """Hyperparameters, the Train/Cancel buttons, progress and curves.

    Parameters
    ----------
    devices
        Device choices to offer, e.g. ``["auto", "cpu", "gpu"]``.

    Attributes
    ----------
    inputs
        The hyperparameter widgets by ``FADVI`` argument name.

    Signals
    -------
    train_requested(object)
        Carries the :class:`~fadvi_gui.model.choices.TrainingSettings` to train with.
    cancel_requested()
        The user pressed Cancel.
    settings_changed()
        A setting that changes the training time or its stopping changed (any input).
    """

    train_requested = Signal(object)
    cancel_requested = Signal()
    settings_changed = Signal()

    def __init__(self, devices: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inputs: dict[str, QWidget] = {}
        self._started_at: float | None = None
        self._fraction = 0.0
        self._epoch_text = ""
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock_timeout)

        form_widget = QWidget()
        form_layout = QVBoxLayout(form_widget)
        form_layout.setContentsMargins(4, 4, 4, 4)
        form_layout.addWidget(self._build_model_box())
        form_layout.addWidget(self._build_training_box(devices or ["auto", "cpu"]))
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(form_widget)
        # Never narrower than the settings (labels and fields whole, Advanced open or not).
        scroll.setMinimumWidth(form_widget.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width()
                               + 2 * scroll.frameWidth())
        self._form_scroll = scroll

        self.curves = TrainingCurves()
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(scroll)
        run_widget = QWidget()
        run_layout = QVBoxLayout(run_widget)
        run_layout.setContentsMargins(0, 0, 0, 0)
        run_layout.addWidget(self._build_run_row())
        run_layout.addWidget(self.curves, 1)
        splitter.addWidget(run_widget)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(1, False)
        splitter.setSizes([300, 560])  # settings scroll; the curves need the height
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._connect_settings_changed()

    # ------------------------------------------------------------------ build
    def _build_model_box(self) -> QWidget:
        box = QGroupBox("Model")
        layout = QVBoxLayout(box)
        common = _PairGrid()
        layout.addWidget(common)
        self.advanced = QCollapsible("Advanced", expandedIcon="\u25be", collapsedIcon="\u25b8")
        advanced = _PairGrid()
        self.advanced.addWidget(advanced)
        layout.addWidget(self.advanced)
        for param in MODEL_PARAMS:
            widget = _input_for(param)
            widget.setObjectName(param.name)
            self.inputs[param.name] = widget
            (advanced if param.advanced else common).add(param.label, widget, param.tooltip)
        return box

    def _build_training_box(self, devices: list[str]) -> QWidget:
        box = QGroupBox("Training")
        grid = _PairGrid()
        QVBoxLayout(box).addWidget(grid)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(0, 10_000)
        self.epochs_spin.setSpecialValueText("Auto")
        self.epochs_spin.setValue(0)
        self.epochs_spin.setToolTip(
            "How many passes over the data to train for. Auto trains as many as fit the time "
            "budget on this computer; "
            "a number trains that many (early stopping may end sooner).")
        self.time_budget_spin = QSpinBox()
        self.time_budget_spin.setRange(1, 24 * 60)
        self.time_budget_spin.setSuffix(" min")
        self.time_budget_spin.setValue(round(DEFAULT_TIME_BUDGET_S / 60))
        self.time_budget_spin.setToolTip(
            "With Auto epochs: the longest training may take; early stopping often ends it sooner.")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(8, 8192)
        self.batch_spin.setValue(128)
        self.batch_spin.setToolTip("Cells per training step.")
        self.train_size_spin = QDoubleSpinBox()
        self.train_size_spin.setRange(0.5, 1.0)
        self.train_size_spin.setSingleStep(0.05)
        self.train_size_spin.setValue(0.9)
        self.train_size_spin.setToolTip("Share of cells used for training; the rest measure validation loss and accuracy.")
        self.early_stopping_check = QCheckBox("on")
        self.early_stopping_check.setChecked(True)
        self.early_stopping_check.setToolTip(
            "Ends training once the validation label accuracy has not improved for 10 epochs "
            "(without labelled cells: the validation loss).")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setToolTip("Random seed: the same seed and settings give the same model.")
        self.device_combo = QComboBox()
        for device in devices:
            self.device_combo.addItem(_DEVICE_LABELS.get(device, device), device)
        self.device_combo.setToolTip("Where to train. Automatic uses a GPU when one is available.")
        for label, widget in (
            ("Max epochs", self.epochs_spin), ("Time budget", self.time_budget_spin),
            ("Early stopping", self.early_stopping_check), ("Batch size", self.batch_spin),
            ("Training share", self.train_size_spin), ("Random seed", self.seed_spin),
            ("Device", self.device_combo),
        ):
            grid.add(label, widget, widget.toolTip())
        self.epochs_spin.valueChanged.connect(self._on_epochs_spin_value_changed)
        return box

    def _build_run_row(self) -> QWidget:
        self.run_controls = RunControls(
            ["Train"], idle_text="Open data to train.", ready_text="Ready to train.",
            ended_texts={"failed": "Training failed; see the message."},
            cancelling_text="Cancelling after this step...", keep_outcome=True)
        self.train_button = self.run_controls.run_buttons[0]
        self.train_button.setDefault(True)
        self.train_button.clicked.connect(self._on_train_button_clicked)
        self.cancel_button = self.run_controls.cancel_button
        self.progress_bar = self.run_controls.progress_bar
        self.state_label = self.run_controls.state_label
        self.state_label.setObjectName("trainingState")
        self.run_controls.cancel_requested.connect(self.cancel_requested)
        self.run_controls.running_changed.connect(self._on_run_controls_running_changed)
        self.estimate_label = QLabel()
        self.estimate_label.setObjectName("trainingEstimate")
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setVisible(False)
        widget = QWidget()
        layout = QVBoxLayout(widget)
        layout.addWidget(self.run_controls)
        layout.addWidget(self.estimate_label)
        return widget

    # --------------------------------------------------------------- settings
    def settings(self) -> TrainingSettings:
        """Return the run settings as currently shown."""
        kwargs = {name: _value(widget) for name, widget in self.inputs.items()}
        return TrainingSettings(
            model_kwargs=kwargs,
            max_epochs=self.epochs_spin.value() or None,
            time_budget_s=60.0 * self.time_budget_spin.value(),
            batch_size=self.batch_spin.value(),
            train_size=round(self.train_size_spin.value(), 3),
            early_stopping=self.early_stopping_check.isChecked(),
            seed=self.seed_spin.value(),
            device=self.device_combo.currentData(),
        )

    def set_settings(self, values: dict[str, Any]) -> None:
        """Show earlier settings (as from :meth:`settings_dict`); unknown keys are ignored."""
        for name, value in (values.get("model_kwargs") or {}).items():
            if name in self.inputs:
                _set_value(self.inputs[name], value)
        if "max_epochs" in values:
            self.epochs_spin.setValue(int(values["max_epochs"] or 0))
        for key, spin in (("batch_size", self.batch_spin), ("seed", self.seed_spin)):
            if key in values:
                spin.setValue(int(values[key]))
        if values.get("time_budget_s"):
            self.time_budget_spin.setValue(round(float(values["time_budget_s"]) / 60))
        if "train_size" in values:
            self.train_size_spin.setValue(float(values["train_size"]))
        if "early_stopping" in values:
            self.early_stopping_check.setChecked(bool(values["early_stopping"]))
        index = self.device_combo.findData(values.get("device"))
        if index >= 0:
            self.device_combo.setCurrentIndex(index)

    def settings_dict(self) -> dict[str, Any]:
        """Return the settings as plain JSON-able values, for QSettings."""
        s = self.settings()
        return {
            "model_kwargs": s.model_kwargs, "max_epochs": s.max_epochs,
            "time_budget_s": s.time_budget_s, "batch_size": s.batch_size,
            "train_size": s.train_size, "early_stopping": s.early_stopping, "seed": s.seed,
            "device": s.device,
        }

    # ------------------------------------------------------------- run state
    def set_can_train(self, can_train: bool, reason: str = "") -> None:
        """Enable Train (when not running) or disable it with ``reason`` shown."""
        self.run_controls.set_can_run(can_train, reason)

    def clear(self) -> None:
        """Return to the state of newly opened data: no curves, progress, estimate or outcome."""
        self._started_at = None
        self._fraction = 0.0
        self._epoch_text = ""
        self.curves.clear()
        self.run_controls.clear()
        self.show_estimate("")

    def show_estimate(self, text: str) -> None:
        """Show how long training will take (or, after a run, why it stopped); "" hides it."""
        self.estimate_label.setText(text)
        self.estimate_label.setVisible(bool(text))

    @property
    def estimate_text(self) -> str:
        """The expected time shown before Train, or the stop reason after a run ("" if none)."""
        return self.estimate_label.text()

    def show_started(self, settings: TrainingSettings) -> None:
        """Switch to the running state: Cancel enabled, curves cleared."""
        self._started_at = time.monotonic()
        self._fraction = 0.0
        self._epoch_text = ""
        self.curves.clear()
        self.run_controls.show_started("Training...")
        self.progress_bar.setFormat("Preparing...")
        self._clock.start()

    def show_progress(self, progress: TrainingProgress) -> None:
        """Show a ``fadvi_core.TrainingProgress``: bar, epoch n/N, times, and curves at epoch end."""
        total = max(progress.max_epochs * progress.n_steps, 1)
        done = progress.epoch * progress.n_steps + progress.step
        self._fraction = done / total
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)
        self._epoch_text = f"Epoch {progress.epoch + 1}/{progress.max_epochs}"
        if progress.epoch_end and progress.metrics:
            self.curves.add_epoch(progress.epoch, progress.metrics)
        self._on_clock_timeout()

    def show_ended(self, outcome: str, reason: str = "") -> None:
        """Return to idle and say how the run ended ("finished", "cancelled", "failed") and why.

        ``reason`` (why training stopped, in words) replaces the expected time under the buttons.
        """
        self._clock.stop()
        self.show_estimate(reason)
        elapsed = _duration(time.monotonic() - self._started_at) if self._started_at else ""
        message = {"finished": f"Finished in {elapsed}.",
                   "cancelled": f"Cancelled after {elapsed}; the model trained so far is kept."
                   }.get(outcome, "")
        self.run_controls.show_ended(outcome, message)
        self.progress_bar.setFormat(self._epoch_text)

    @property
    def state_text(self) -> str:
        """The line that says what the panel is doing ("Training...", "Cancelled ...")."""
        return self.state_label.text()

    # ----------------------------------------------------------------- slots
    def _on_train_button_clicked(self) -> None:
        self.train_requested.emit(self.settings())

    def _on_clock_timeout(self) -> None:
        if self._started_at is None:
            return
        if not self.run_controls.is_running or not self._epoch_text:
            return
        elapsed = time.monotonic() - self._started_at
        # The bar holds the epoch only, so its text fits a narrow dock; times go on the
        # state line below, which wraps.
        self.progress_bar.setFormat(self._epoch_text)
        text = f"Training: {_duration(elapsed)} elapsed"
        if self._fraction > 0:
            text += f", about {_duration(elapsed / self._fraction * (1 - self._fraction))} left"
        if not self.cancel_button.isEnabled():
            return  # keep "Cancelling..." on the state line
        self.run_controls.show_message(text + ".")

    def _on_epochs_spin_value_changed(self, epochs: int) -> None:
        self.time_budget_spin.setEnabled(epochs == 0 and not self.run_controls.is_running)

    def _on_run_controls_running_changed(self, running: bool) -> None:
        for widget in self._setting_widgets():
            widget.setEnabled(not running)
        self._on_epochs_spin_value_changed(self.epochs_spin.value())

    def _setting_widgets(self) -> tuple[QWidget, ...]:
        return (*self.inputs.values(), self.epochs_spin, self.time_budget_spin, self.batch_spin,
                self.train_size_spin, self.early_stopping_check, self.seed_spin, self.device_combo)

    def _connect_settings_changed(self) -> None:
        for widget in self._setting_widgets():
            for name in ("valueChanged", "toggled", "currentIndexChanged"):
                signal = getattr(widget, name, None)
                if signal is not None:
                    signal.connect(self._on_setting_changed)

    def _on_setting_changed(self, *_args: Any) -> None:
        self.settings_changed.emit()


class _PairGrid(QWidget):
    """Label/input pairs, one per row: every label stays whole in a narrow dock."""

    def __init__(self) -> None:
        super().__init__()
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(8)
        self._grid.setColumnStretch(2, 1)

    def add(self, text: str, widget: QWidget, tooltip: str = "") -> None:
        label = QLabel(text)
        label.setToolTip(tooltip)
        label.setBuddy(widget)
        widget.setMaximumWidth(150 if isinstance(widget, QComboBox) else 120)
        row = self._grid.rowCount()
        self._grid.addWidget(label, row, 0)
        self._grid.addWidget(widget, row, 1)


def _input_for(param: Param) -> QWidget:
    if param.kind == "int":
        widget = QSpinBox()
        widget.setRange(int(param.minimum), int(param.maximum))
        widget.setSingleStep(int(param.step))
    elif param.kind == "float":
        widget = QDoubleSpinBox()
        widget.setDecimals(2)
        widget.setRange(param.minimum, param.maximum)
        widget.setSingleStep(param.step)
    elif param.kind == "choice":
        widget = QComboBox()
        widget.addItems(list(param.choices))
    else:
        widget = QCheckBox()
    _set_value(widget, param.default)
    widget.setToolTip(f"{param.tooltip}\nDefault: {param.default}.")
    return widget


def _value(widget: QWidget) -> Any:
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.value()


def _set_value(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QComboBox):
        index = widget.findText(str(value))
        if index >= 0:
            widget.setCurrentIndex(index)
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    else:
        widget.setValue(float(value))


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
