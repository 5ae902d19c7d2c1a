"""On-disk layouts, one module each (lvos, youtube_vos, lvvis, labelme); atomic writes."""
