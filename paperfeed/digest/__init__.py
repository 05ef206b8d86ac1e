"""Daily and weekly digests: who gets one, which papers it holds, how it reads, how it is sent."""
