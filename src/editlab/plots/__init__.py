"""Paper figures, one module per figure kind; `style` holds what they share."""
