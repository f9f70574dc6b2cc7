"""Analytics for staff: views, searches, leads, the funnel, inventory value and age; charts drawn as SVG."""
