"""The keyboard shortcuts of every frequent action, and the Help page that lists them."""

from __future__ import annotations

# action name -> (key sequence, what it does). The main window binds each action by its name.
SHORTCUTS: dict[str, tuple[str, str]] = {
    "open_folder": ("Ctrl+O", "Open a folder of frames"),
    "open_video": ("Ctrl+Shift+O", "Open a video file"),
    "open_dataset": ("Ctrl+D", "Open a dataset root and pick a video"),
    "save": ("Ctrl+S", "Save now (it also saves by itself after every change)"),
    "undo": ("Ctrl+Z", "Undo the last change (the Edit menu names it)"),
    "redo": ("Ctrl+Y", "Redo"),
    "next_frame": ("Right", "Next frame"),
    "previous_frame": ("Left", "Previous frame"),
    "first_frame": ("Home", "First frame"),
    "last_frame": ("End", "Last frame"),
    "next_keyframe": ("Ctrl+Right", "Next keyframe"),
    "previous_keyframe": ("Ctrl+Left", "Previous keyframe"),
    "go_to_frame": ("Ctrl+G", "Go to frame: type its number, then Return"),
    "play": ("P", "Play / pause"),
    "tool_click": ("C", "Click tool: left click adds, right click removes, drag draws a box"),
    "tool_brush": ("B", "Brush"),
    "tool_eraser": ("E", "Eraser"),
    "tool_polygon": ("G", "Polygon: click vertices, double click to close"),
    "brush_bigger": ("]", "Bigger brush"),
    "brush_smaller": ("[", "Smaller brush"),
    "accept": ("Return", "Accept the candidate mask (or close the polygon)"),
    "discard": ("Escape", "Discard the clicks and candidate"),
    "candidate_next": ("Tab", "Show the next candidate mask"),
    "undo_click": ("Backspace", "Remove the last click"),
    "fill_holes": ("H", "Fill holes in the current object on this frame"),
    "clear": ("Delete", "Clear the current object on this frame"),
    "new_object": ("N", "Add an object"),
    "protect": ("Shift+P", "Protect other objects on / off (new masks take only background)"),
    "propagate_forward": ("F", "Propagate forward from this frame"),
    "propagate_backward": ("Shift+F", "Propagate backward from this frame"),
    "propagate_both": ("Ctrl+F", "Propagate both ways from this frame"),
    "propagate_to": ("Ctrl+Shift+F", "Propagate from this frame up to a frame you choose"),
    "cancel_propagation": ("Ctrl+.", "Cancel the running propagation"),
    "outline": ("O", "Outline only / filled masks"),
    "hide_masks": ("M", "Hide / show all masks"),
    "opacity_up": ("Shift+Up", "More opaque masks"),
    "opacity_down": ("Shift+Down", "More transparent masks"),
    "fit": ("0", "Fit the frame in the window"),
    "zoom_in": ("+", "Zoom in (or wheel)"),
    "zoom_out": ("-", "Zoom out (or wheel)"),
}

# Review mode binds these itself (annotator/gui/review_view.py), by the same names.
REVIEW_SHORTCUTS: dict[str, tuple[str, str]] = {
    "compare": ("Ctrl+Shift+G", "Compare the masks with a ground-truth folder"),
    "beside": ("Ctrl+B", "Show the ground truth beside the frame"),
    "difference_view": ("Ctrl+Shift+B", "Show the differences with the ground truth beside"),
    "differences": ("Ctrl+Shift+D", "Mark the differences with the ground truth on the frame"),
    "next_worst": ("Alt+Right", "Next frame in review order (worst first)"),
    "previous_worst": ("Alt+Left", "Previous frame in review order"),
    "mark_accepted": ("Alt+A", "Mark this frame accepted"),
    "mark_needs_fix": ("Alt+X", "Mark this frame as needing a fix"),
    "next_unreviewed": ("Alt+U", "Next frame without a mark, worst first"),
    "next_needs_fix": ("Alt+N", "Next frame marked as needing a fix"),
    "fix_here": ("Alt+C", "Fix this frame: its worst object with the brush"),
    "report": ("Ctrl+Shift+R", "Write the review report"),
}

MOUSE_HELP = (
    ("Wheel", "Zoom at the cursor"),
    ("Middle drag / Space + drag", "Pan"),
    ("1 … 9", "Select object 1 … 9"),
)


def help_html() -> str:
    listed = [*SHORTCUTS.values(), *REVIEW_SHORTCUTS.values(), *MOUSE_HELP]
    rows = [f"<tr><td><b>{key}</b></td><td>{text}</td></tr>" for key, text in listed]
    return "<table cellspacing='4'>" + "".join(rows) + "</table>"
