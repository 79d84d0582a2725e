"""corpus: a searchable full-text corpus of Chinese policy speeches (讲话稿, 发言汇编, 调研报告, 工作报告)."""

__version__ = "0.1.0"
