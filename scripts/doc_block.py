"""One way to put generated text into a markdown file: between `<!-- NAME:begin -->` and
`<!-- NAME:end -->`, replacing what was there (used by the fuzz, fault-injection, benchmark and
overlap reports, so that no document carries hand-copied figures).

    import doc_block
    doc_block.replace_block("docs/reliability.md", "fuzz", "\\n".join(lines))
"""


def replace_block(path, name, body, missing="error", heading=""):
    """Writes `body` between the markers `name` in `path`. Markers absent: `missing` says what
    happens: "error" (ValueError naming the file and the marker), "skip" (file unchanged,
    returns False), or "append" (the block is added at the end, after `heading`)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = begin + "\n" + body.rstrip("\n") + "\n" + end
    text = open(path).read()
    if begin in text and end in text and text.index(begin) < text.index(end):
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    elif missing == "skip":
        return False
    elif missing == "append":
        text = text.rstrip("\n") + "\n\n" + heading + block + "\n"
    else:
        raise ValueError(f"{path}: no '{begin}' ... '{end}' block to write the {name} figures into")
    open(path, "w").write(text)
    return True
